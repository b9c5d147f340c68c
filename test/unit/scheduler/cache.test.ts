import assert from "node:assert/strict";
import fc from "fast-check";
import type { Condition, MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { allocatableOf, podRequests, SchedulerCache, WorkloadNotCachedError, workloadKey, type Lister } from "../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, NOW_ISO, sovereignWorkload } from "../../support/builders.ts";
import { fcParams } from "./properties/runs.ts";

/** What an informer's cache gives the scheduler, over a map the test changes. */
class MapLister<T> implements Lister<T> {
  readonly items = new Map<string, T>();
  constructor(entries: [string, T][] = []) {
    for (const [k, v] of entries) this.items.set(k, v);
  }
  list = (): readonly T[] => [...this.items.values()];
  get = (key: string): T | undefined => this.items.get(key);
}

const ready: Condition[] = [{ type: "Ready", status: "True", lastTransitionTime: NOW_ISO, reason: "HeartbeatsFresh", message: "" }];
const cluster = (name: string, allocatable: Record<string, string>): MemberCluster => memberCluster({ name, taints: [], status: { conditions: ready, allocatable } });

function cacheOf({ clusters, workloads, ttl }: { clusters: MemberCluster[]; workloads: SovereignWorkload[]; ttl?: number }) {
  const w = new MapLister(workloads.map((x) => [workloadKey(x), x]));
  const cache = new SchedulerCache({
    clusters: new MapLister(clusters.map((c) => [c.metadata.name, c])),
    policies: new MapLister(),
    workloads: w,
    ...(ttl !== undefined ? { assumeTtlMs: ttl } : {}),
  });
  return { cache, workloads: w };
}

describe("scheduler cache", () => {
  const one = () => [cluster("a", { pods: "2" }), cluster("b", { pods: "2" })];
  const x = sovereignWorkload({ name: "x", spec: { replicas: 2, placement: { mode: "Divided", maxClusters: 1 } } });
  const y = sovereignWorkload({ name: "y", spec: { replicas: 2, placement: { mode: "Divided", maxClusters: 1 } } });

  it("counts a placement as soon as it is assumed, so the next decision does not book the same room", () => {
    const { cache } = cacheOf({ clusters: one(), workloads: [x, y] });
    const dx = cache.decide({ workload: "ns/x", now: NOW });
    assert.deepEqual(dx.placements.map((p) => [p.cluster, p.replicas]), [["a", 2]]);
    // Positive control: without assume, y is decided into the same two pods.
    assert.deepEqual(cache.decide({ workload: "ns/y", now: NOW }).placements.map((p) => p.cluster), ["a"]);
    cache.assume({ workload: "ns/x", placements: dx.placements, now: NOW });
    assert.deepEqual(cache.decide({ workload: "ns/y", now: NOW }).placements.map((p) => [p.cluster, p.replicas]), [["b", 2]]);
  });

  it("keeps a workload's own assumed placement as its current one (stable), and does not count it against itself", () => {
    const { cache } = cacheOf({ clusters: one(), workloads: [x] });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "b", replicas: 2 }], now: NOW });
    assert.deepEqual(cache.decide({ workload: "ns/x", now: NOW }).placements.map((p) => [p.cluster, p.replicas]), [["b", 2]]);
  });

  it("drops an assumed placement once the workload's status shows it", () => {
    const { cache, workloads } = cacheOf({ clusters: one(), workloads: [x] });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "a", replicas: 2 }], now: NOW });
    workloads.items.set("ns/x", { ...x, status: { placements: [{ cluster: "a", country: "FR", replicas: 1 }] } });
    assert.ok(cache.assumedPlacements({ workload: "ns/x", now: NOW }), "a status that differs keeps it");
    workloads.items.set("ns/x", { ...x, status: { placements: [{ cluster: "a", country: "FR", replicas: 2 }] } });
    assert.equal(cache.assumedPlacements({ workload: "ns/x", now: NOW }), undefined);
  });

  it("drops an assumed placement when the workload is gone, or after the TTL", () => {
    const { cache, workloads } = cacheOf({ clusters: one(), workloads: [x, y], ttl: 1_000 });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "a", replicas: 2 }], now: NOW });
    cache.assume({ workload: "ns/y", placements: [{ cluster: "b", replicas: 2 }], now: NOW });
    workloads.items.delete("ns/x");
    assert.equal(cache.assumedPlacements({ workload: "ns/x", now: NOW }), undefined);
    assert.ok(cache.assumedPlacements({ workload: "ns/y", now: NOW + 999 }));
    assert.equal(cache.assumedPlacements({ workload: "ns/y", now: NOW + 1_000 }), undefined);
  });

  it("says which workload it does not hold", () => {
    const { cache } = cacheOf({ clusters: one(), workloads: [] });
    assert.throws(() => cache.decide({ workload: "ns/nope", now: NOW }), (e: unknown) => e instanceof WorkloadNotCachedError && e.retryable && /ns\/nope/.test(e.message));
  });

  it("never puts more on a cluster than its allocatable allows, deciding workloads one after another in any order (property)", () => {
    const clusterArb = fc.record({ pods: fc.integer({ min: 0, max: 6 }), cpu: fc.integer({ min: 0, max: 4 }) });
    const workloadArb = fc.record({
      replicas: fc.integer({ min: 1, max: 5 }),
      mode: fc.constantFrom("Divided" as const, "Duplicated" as const),
      cpuMilli: fc.constantFrom(0, 250, 500, 1_000),
      maxClusters: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    });
    const input = fc.record({ clusters: fc.array(clusterArb, { minLength: 1, maxLength: 4 }), workloads: fc.array(workloadArb, { minLength: 1, maxLength: 8 }) }).chain((i) =>
      fc.tuple(fc.constant(i), fc.shuffledSubarray(i.workloads.map((_, k) => k), { minLength: i.workloads.length, maxLength: i.workloads.length })),
    );
    let overbookedWithoutAssume = 0;
    fc.assert(
      fc.property(input, ([i, order]) => {
        const clusters = i.clusters.map((c, k) => cluster(`c${k}`, { pods: String(c.pods), cpu: String(c.cpu) }));
        const workloads = i.workloads.map((w, k) =>
          sovereignWorkload({
            name: `w${k}`,
            spec: {
              replicas: w.replicas,
              placement: { mode: w.mode, ...(w.maxClusters !== undefined ? { maxClusters: w.maxClusters } : {}) },
              template: { spec: { containers: [{ name: "app", image: "i", resources: { requests: { cpu: `${w.cpuMilli}m` } } }] } },
            },
          }),
        );
        const booked = (assume: boolean) => {
          const { cache } = cacheOf({ clusters, workloads });
          const used = new Map<string, { pods: number; cpuMilli: number }>();
          for (const k of order) {
            const key = workloadKey(workloads[k]!);
            const d = cache.decide({ workload: key, now: NOW });
            if (assume) cache.assume({ workload: key, placements: d.placements, now: NOW });
            const per = podRequests(workloads[k]!.spec.template.spec);
            for (const p of d.placements) {
              const u = used.get(p.cluster) ?? { pods: 0, cpuMilli: 0 };
              used.set(p.cluster, { pods: u.pods + p.replicas, cpuMilli: u.cpuMilli + p.replicas * per.cpuMilli });
            }
          }
          return [...used].some(([name, u]) => {
            const a = allocatableOf(clusters.find((c) => c.metadata.name === name)!)!;
            return u.pods > a.pods || u.cpuMilli > a.cpuMilli;
          });
        };
        assert.equal(booked(true), false, "a cluster got more than its allocatable");
        if (booked(false)) overbookedWithoutAssume++;
      }),
      fcParams(),
    );
    // Positive control: the same decisions without assume() do overbook.
    assert.ok(overbookedWithoutAssume > 0, "no input could overbook a cluster");
  });
});
