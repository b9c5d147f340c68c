import assert from "node:assert/strict";
import type { PlacementRequest, Resources } from "../../../../operator/src/scheduler/index.ts";
import { capacity } from "../../../../operator/src/scheduler/plugins/capacity.ts";
import { cluster, GiB, request, runFilter } from "../builders.ts";

const small: Resources = { cpuMilli: 2_000, memoryBytes: 4 * GiB, pods: 10 };

describe("Capacity filter", () => {
  const cases: { name: string; free: Resources | undefined; req: Partial<PlacementRequest>; want: string[] | null }[] = [
    { name: "skips a Divided workload of zero replicas", free: small, req: { replicas: 0 }, want: null },
    { name: "passes a Divided workload when one replica fits", free: small, req: { replicas: 50, perReplica: { cpuMilli: 2_000, memoryBytes: GiB } }, want: [] },
    { name: "rejects a Divided workload when not one replica fits the cpu", free: small, req: { replicas: 1, perReplica: { cpuMilli: 2_001, memoryBytes: 0 } }, want: ["InsufficientCapacity"] },
    { name: "rejects when not one replica fits the memory", free: small, req: { replicas: 1, perReplica: { cpuMilli: 0, memoryBytes: 5 * GiB } }, want: ["InsufficientCapacity"] },
    { name: "rejects when no pod slot is left", free: { ...small, pods: 0 }, req: { replicas: 1 }, want: ["InsufficientCapacity"] },
    { name: "rejects an over-committed cluster (negative free)", free: { cpuMilli: -500, memoryBytes: 4 * GiB, pods: 10 }, req: { replicas: 1, perReplica: { cpuMilli: 100, memoryBytes: 0 } }, want: ["InsufficientCapacity"] },
    { name: "passes a cluster that has not reported capacity", free: undefined, req: { replicas: 1000 }, want: [] },
    { name: "passes a Duplicated workload when all its replicas fit", free: small, req: { mode: "Duplicated", replicas: 4, perReplica: { cpuMilli: 500, memoryBytes: GiB } }, want: [] },
    { name: "rejects a Duplicated workload when not all its replicas fit", free: small, req: { mode: "Duplicated", replicas: 5, perReplica: { cpuMilli: 500, memoryBytes: GiB } }, want: ["InsufficientCapacity"] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(runFilter(capacity, { cluster: cluster({ free: c.free }), request: request(c.req) }), c.want));
  }
});
