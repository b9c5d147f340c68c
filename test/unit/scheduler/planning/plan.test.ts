// The planning's arithmetic at its edges (moved from the workload controller's mutation
// review with the planning): each test fails on a one-line change the others let through.
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { PlacementRequest } from "../../../../operator/src/scheduler/index.ts";
import { merge, trimTo, unmet } from "../../../../operator/src/scheduler/planning/plan.ts";

const request = (r: Partial<PlacementRequest>): PlacementRequest => ({ workload: "default/w", replicas: 3, mode: "Divided", constraints: [], tolerations: [], perReplica: { cpuMilli: 0, memoryBytes: 0 }, ...r });
const P = (cluster: string, country: string, replicas: number) => ({ cluster, country, replicas });

describe("planning: unmet, merge and trimTo at their edges", () => {
  const unmetCases: { what: string; placements: ReturnType<typeof P>[]; req: Partial<PlacementRequest>; reason: string | undefined }[] = [
    { what: "Divided, exactly the replicas", placements: [P("a", "FR", 2), P("b", "FR", 1)], req: { replicas: 3 }, reason: undefined },
    { what: "Divided, more replicas than asked (a scale-down)", placements: [P("a", "FR", 2), P("b", "FR", 2)], req: { replicas: 3 }, reason: "InsufficientCapacity" },
    { what: "Divided, fewer replicas than asked", placements: [P("a", "FR", 2)], req: { replicas: 3 }, reason: "InsufficientCapacity" },
    { what: "Duplicated, each cluster more than asked (a scale-down)", placements: [P("a", "FR", 3), P("b", "DE", 3)], req: { replicas: 2, mode: "Duplicated" }, reason: "InsufficientCapacity" },
    { what: "Duplicated, each cluster exactly", placements: [P("a", "FR", 2), P("b", "DE", 2)], req: { replicas: 2, mode: "Duplicated" }, reason: undefined },
    { what: "as many clusters as maxClusters", placements: [P("a", "FR", 2), P("b", "FR", 1)], req: { replicas: 3, maxClusters: 2 }, reason: undefined },
    { what: "one cluster over maxClusters", placements: [P("a", "FR", 1), P("b", "FR", 1), P("c", "FR", 1)], req: { replicas: 3, maxClusters: 2 }, reason: "SpreadUnsatisfiable" },
    { what: "exactly minCountries countries", placements: [P("a", "FR", 2), P("b", "DE", 1)], req: { replicas: 3, minCountries: 2 }, reason: undefined },
    { what: "one country short of minCountries", placements: [P("a", "FR", 2), P("b", "FR", 1)], req: { replicas: 3, minCountries: 2 }, reason: "SpreadUnsatisfiable" },
  ];
  for (const c of unmetCases) {
    it(`unmet: ${c.what} is ${c.reason ?? "met"}`, () => {
      assert.equal(unmet(c.placements, request(c.req))?.reason, c.reason);
    });
  }

  it("merge drops zero-replica entries and adds up repeated clusters, sorted by name", () => {
    assert.deepEqual(merge([P("b", "FR", 0), P("a", "FR", 1)], [P("a", "FR", 2), P("c", "DE", 0)]), [P("a", "FR", 3)]);
  });

  it("trimTo caps each Duplicated copy at the replicas asked for, never raises one", () => {
    assert.deepEqual(trimTo([P("a", "FR", 3), P("b", "DE", 1)], request({ replicas: 2, mode: "Duplicated" }), new Set()), [P("a", "FR", 2), P("b", "DE", 1)]);
  });

  it("trimTo takes a Divided scale-down from clusters that are up before an unreachable one, the largest first", () => {
    // b is unreachable (pinned) and the largest: it is touched last.
    const trimmed = trimTo([P("a", "FR", 2), P("b", "FR", 4), P("c", "FR", 3)], request({ replicas: 6 }), new Set(["b"]));
    assert.deepEqual(trimmed, [P("a", "FR", 2), P("b", "FR", 4)]);
    // Without a pinned cluster the largest loses first.
    assert.deepEqual(trimTo([P("a", "FR", 2), P("b", "FR", 4), P("c", "FR", 3)], request({ replicas: 8 }), new Set()), [P("a", "FR", 2), P("b", "FR", 3), P("c", "FR", 3)]);
  });
});
