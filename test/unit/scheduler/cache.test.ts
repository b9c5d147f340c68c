import assert from "node:assert/strict";
import fc from "fast-check";
import type { Condition, MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { allocatableOf, podRequests, SchedulerCache, usedByPlacements, WorkloadNotCachedError, workloadKey, type WatchedLister } from "../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, NOW_ISO, sovereignWorkload } from "../../support/builders.ts";
import { fcParams } from "./properties/runs.ts";

/** What an informer gives the scheduler, over a map the test changes: set and delete notify, as an informer's events do. */
class MapLister<T> implements WatchedLister<T> {
  readonly #items = new Map<string, T>();
  readonly #handlers: ((obj: T, previous: T | undefined) => void)[] = [];
  constructor(entries: [string, T][] = []) {
    for (const [k, v] of entries) this.#items.set(k, v);
  }
  list = (): readonly T[] => [...this.#items.values()];
  get = (key: string): T | undefined => this.#items.get(key);
  onChange(handler: (obj: T, previous: T | undefined) => void): void {
    this.#handlers.push(handler);
  }
  set(key: string, value: T): void {
    const previous = this.#items.get(key);
    this.#items.set(key, value);
    for (const h of this.#handlers) h(value, previous);
  }
  delete(key: string): void {
    const previous = this.#items.get(key);
    if (previous === undefined) return;
    this.#items.delete(key);
    for (const h of this.#handlers) h(previous, previous);
  }
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
    const dx = cache.plan({ workload: "ns/x", now: NOW });
    assert.deepEqual(dx.placements.map((p) => [p.cluster, p.replicas]), [["a", 2]]);
    // Positive control: without assume, y is decided into the same two pods.
    assert.deepEqual(cache.plan({ workload: "ns/y", now: NOW }).placements.map((p) => p.cluster), ["a"]);
    cache.assume({ workload: "ns/x", placements: dx.placements, now: NOW });
    assert.deepEqual(cache.plan({ workload: "ns/y", now: NOW }).placements.map((p) => [p.cluster, p.replicas]), [["b", 2]]);
  });

  it("does not count a workload's own assumed placement against itself (positive control: another workload's does count)", () => {
    const { cache } = cacheOf({ clusters: [cluster("a", { pods: "2" })], workloads: [x, y] });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "a", replicas: 2 }], now: NOW });
    assert.deepEqual(cache.plan({ workload: "ns/x", now: NOW }).placements.map((p) => [p.cluster, p.replicas]), [["a", 2]]);
    assert.equal(cache.plan({ workload: "ns/y", now: NOW }).scheduled, false);
  });

  it("drops an assumed placement once the workload's status shows it", () => {
    const { cache, workloads } = cacheOf({ clusters: one(), workloads: [x] });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "a", replicas: 2 }], now: NOW });
    workloads.set("ns/x", { ...x, status: { placements: [{ cluster: "a", country: "FR", replicas: 1 }] } });
    assert.ok(cache.assumedPlacements({ workload: "ns/x", now: NOW }), "a status that differs keeps it");
    workloads.set("ns/x", { ...x, status: { placements: [{ cluster: "a", country: "FR", replicas: 2 }] } });
    assert.equal(cache.assumedPlacements({ workload: "ns/x", now: NOW }), undefined);
  });

  it("drops an assumed placement when the workload is gone, or after the TTL", () => {
    const { cache, workloads } = cacheOf({ clusters: one(), workloads: [x, y], ttl: 1_000 });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "a", replicas: 2 }], now: NOW });
    cache.assume({ workload: "ns/y", placements: [{ cluster: "b", replicas: 2 }], now: NOW });
    workloads.delete("ns/x");
    assert.equal(cache.assumedPlacements({ workload: "ns/x", now: NOW }), undefined);
    assert.ok(cache.assumedPlacements({ workload: "ns/y", now: NOW + 999 }));
    assert.equal(cache.assumedPlacements({ workload: "ns/y", now: NOW + 1_000 }), undefined);
  });

  it("says which workload it does not hold", () => {
    const { cache } = cacheOf({ clusters: one(), workloads: [] });
    assert.throws(() => cache.plan({ workload: "ns/nope", now: NOW }), (e: unknown) => e instanceof WorkloadNotCachedError && e.retryable && /ns\/nope/.test(e.message));
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
            const d = cache.plan({ workload: key, now: NOW });
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

describe("scheduler cache: per-cluster usage kept incrementally", () => {
  type Status = { cluster: string; replicas: number }[];
  const workloadOf = ({ name, cpu = "500m", status = [], generation = 1 }: { name: string; cpu?: string; status?: Status; generation?: number }): SovereignWorkload => {
    const w = sovereignWorkload({
      name,
      spec: { template: { spec: { containers: [{ name: "app", image: "i", resources: { requests: { cpu, memory: "1Gi" } } }] } } },
      status: { placements: status.map((p) => ({ ...p, country: "FR" as const })) },
    });
    return { ...w, metadata: { ...w.metadata, generation } };
  };
  /** Non-zero entries only: a cluster nobody uses is absent, or all zeros, depending on the path. */
  const plain = (m: ReadonlyMap<string, { cpuMilli: number; memoryBytes: number; pods: number }>) =>
    Object.fromEntries([...m].filter(([, u]) => u.pods !== 0 || u.cpuMilli !== 0 || u.memoryBytes !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  const GiB = 2 ** 30;
  const clusters = [cluster("a", { pods: "10" }), cluster("b", { pods: "10" })];
  const make = (workloads: SovereignWorkload[]) => cacheOf({ clusters, workloads });

  it("counts a workload added after the cache was built, and only for the others", () => {
    const { cache, workloads } = make([]);
    workloads.set("ns/x", workloadOf({ name: "x", status: [{ cluster: "a", replicas: 2 }] }));
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), { a: { cpuMilli: 1_000, memoryBytes: 2 * GiB, pods: 2 } });
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/x", now: NOW })), {});
  });

  it("moves a workload's share on update: new placements, then new requests (a new generation)", () => {
    const { cache, workloads } = make([workloadOf({ name: "x", status: [{ cluster: "a", replicas: 2 }] })]);
    workloads.set("ns/x", workloadOf({ name: "x", status: [{ cluster: "a", replicas: 1 }, { cluster: "b", replicas: 3 }] }));
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), {
      a: { cpuMilli: 500, memoryBytes: GiB, pods: 1 }, b: { cpuMilli: 1_500, memoryBytes: 3 * GiB, pods: 3 },
    });
    workloads.set("ns/x", workloadOf({ name: "x", cpu: "1", generation: 2, status: [{ cluster: "b", replicas: 3 }] }));
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), { b: { cpuMilli: 3_000, memoryBytes: 3 * GiB, pods: 3 } });
  });

  it("forgets a deleted workload's share entirely (and the cluster it alone used)", () => {
    const { cache, workloads } = make([workloadOf({ name: "x", status: [{ cluster: "a", replicas: 2 }] }), workloadOf({ name: "y", status: [{ cluster: "b", replicas: 1 }] })]);
    workloads.delete("ns/x");
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/z", now: NOW })), { b: { cpuMilli: 500, memoryBytes: GiB, pods: 1 } });
    workloads.delete("ns/y");
    assert.equal(cache.usedByOthers({ workload: "ns/z", now: NOW }).size, 0, "no entry is left behind for a cluster nobody uses");
  });

  it("counts an assumed placement instead of the status, once, and the status again when it shows it", () => {
    const { cache, workloads } = make([workloadOf({ name: "x", status: [{ cluster: "a", replicas: 2 }] })]);
    cache.assume({ workload: "ns/x", placements: [{ cluster: "b", replicas: 4 }], now: NOW });
    const assumed = { b: { cpuMilli: 2_000, memoryBytes: 4 * GiB, pods: 4 } };
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), assumed);
    // A status write that is not yet the decided one changes nothing.
    workloads.set("ns/x", workloadOf({ name: "x", status: [{ cluster: "a", replicas: 2 }, { cluster: "b", replicas: 1 }] }));
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), assumed);
    // The status catches up: counted once, from the status, and no longer assumed.
    workloads.set("ns/x", workloadOf({ name: "x", status: [{ cluster: "b", replicas: 4 }, { cluster: "a", replicas: 0 }] }));
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), assumed);
    assert.equal(cache.assumedPlacements({ workload: "ns/x", now: NOW }), undefined);
    // Positive control: later status changes count again (the assumed entry is not stuck).
    workloads.set("ns/x", workloadOf({ name: "x", status: [{ cluster: "a", replicas: 1 }] }));
    assert.deepEqual(plain(cache.usedByOthers({ workload: "ns/y", now: NOW })), { a: { cpuMilli: 500, memoryBytes: GiB, pods: 1 } });
  });

  it("counts the status again when an assumed placement expires or is forgotten", () => {
    const { cache } = cacheOf({ clusters, workloads: [workloadOf({ name: "x", status: [{ cluster: "a", replicas: 2 }] }), workloadOf({ name: "y" })], ttl: 1_000 });
    cache.assume({ workload: "ns/x", placements: [{ cluster: "b", replicas: 1 }], now: NOW });
    assert.deepEqual(Object.keys(plain(cache.usedByOthers({ workload: "ns/y", now: NOW + 999 }))), ["b"]);
    assert.deepEqual(Object.keys(plain(cache.usedByOthers({ workload: "ns/y", now: NOW + 1_000 }))), ["a"]);
    cache.assume({ workload: "ns/y", placements: [{ cluster: "b", replicas: 1 }], now: NOW + 1_000 });
    cache.forget("ns/y");
    assert.deepEqual(Object.keys(plain(cache.usedByOthers({ workload: "ns/x", now: NOW + 1_000 }))), []);
  });

  it("always equals a count from scratch over every workload, after any sequence of informer events and assumes (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), w: fc.nat(3), cpu: fc.constantFrom("0", "250m", "1"), generation: fc.nat(2), status: fc.uniqueArray(fc.record({ cluster: fc.constantFrom("a", "b", "c"), replicas: fc.nat(3) }), { selector: (p) => p.cluster, maxLength: 3 }) }),
      fc.record({ kind: fc.constant("delete" as const), w: fc.nat(3) }),
      fc.record({ kind: fc.constant("assume" as const), w: fc.nat(3), placements: fc.uniqueArray(fc.record({ cluster: fc.constantFrom("a", "b", "c"), replicas: fc.nat(3) }), { selector: (p) => p.cluster, maxLength: 3 }) }),
      fc.record({ kind: fc.constant("forget" as const), w: fc.nat(3) }),
      fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 700 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const { cache, workloads } = cacheOf({ clusters, workloads: [], ttl: 1_000 });
      // The reference: what was assumed, kept exactly as the old per-decision scan read it.
      const assumed = new Map<string, { placements: { cluster: string; replicas: number }[]; expires: number }>();
      let now = NOW;
      for (const o of ops) {
        const key = o.kind === "wait" ? "" : `ns/w${o.w}`;
        if (o.kind === "set") {
          // Without a new generation the spec does not change (as on the API server).
          const had = workloads.get(key);
          const cpu = had && had.metadata.generation === o.generation ? (had.spec.template.spec.containers[0]!.resources as { requests: { cpu: string } }).requests.cpu : o.cpu;
          workloads.set(key, workloadOf({ name: `w${o.w}`, cpu, generation: o.generation, status: o.status }));
        }
        if (o.kind === "delete") workloads.delete(key);
        if (o.kind === "assume" && workloads.get(key)) {
          cache.assume({ workload: key, placements: o.placements, now });
          assumed.set(key, { placements: o.placements, expires: now + 1_000 });
        }
        if (o.kind === "forget") {
          cache.forget(key);
          assumed.delete(key);
        }
        if (o.kind === "wait") now += o.ms;
        // An assumed entry ends when the workload goes, the TTL passes, or the status shows it.
        for (const [k, a] of assumed) {
          const w = workloads.get(k);
          const shown = (ps: { cluster: string; replicas: number }[]) => JSON.stringify(Object.fromEntries(ps.filter((p) => p.replicas > 0).map((p) => [p.cluster, p.replicas]).sort()));
          if (!w || now >= a.expires || shown(w.status?.placements ?? []) === shown(a.placements)) assumed.delete(k);
        }
        for (const who of ["ns/w0", "ns/w1", "ns/w9"]) {
          const expected = usedByPlacements({ workloads: workloads.list(), exclude: who, assumed: new Map([...assumed].map(([k, a]) => [k, a.placements])) });
          assert.deepEqual(plain(cache.usedByOthers({ workload: who, now })), plain(expected), `${who} after ${JSON.stringify(o)}`);
        }
      }
    }), fcParams());
  });
});
