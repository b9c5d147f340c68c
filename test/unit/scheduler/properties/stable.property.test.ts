import assert from "node:assert/strict";
import fc from "fast-check";
import { decide, type ClusterView, type CurrentPlacement, type Decision, type PlacementRequest } from "../../../../operator/src/scheduler/index.ts";
import { clusters, clusterView, now, placementRequest } from "./arbitraries.ts";
import { oracleEligible, oracleFit } from "./oracle.ts";
import { fcParams } from "./runs.ts";

const input = fc.record({ clusters, request: placementRequest, now }).filter((i) => i.request.replicas > 0);
const run = (cs: readonly ClusterView[], request: PlacementRequest, t: number): Decision => decide({ clusters: cs, request, now: t });
const asCurrent = (d: Decision): CurrentPlacement[] => d.placements.map((p) => ({ cluster: p.cluster, replicas: p.replicas }));
const EXTRA_NAMES = ["0-new", "m-new", "zz-new"] as const;

/** Arbitrary current placements over the input's clusters and a name the input does not have. */
const withCurrent = input.chain((i) =>
  fc.tuple(
    fc.constant(i),
    fc.uniqueArray(fc.record({ cluster: fc.constantFrom(...i.clusters.map((c) => c.name), "gone"), replicas: fc.integer({ min: 0, max: 6 }) }), { selector: (p) => p.cluster, maxLength: 4 }),
  ),
);

describe("stable placement (properties)", function () {
  // 100,000 runs (npm run test:property) take longer than mocha's default timeout; bounded, so a hang still fails.
  this.timeout(600_000);

  it("keeps a feasible current placement when an unrelated eligible cluster joins", () => {
    const joined = fc.tuple(input, clusterView(fc.constantFrom(...EXTRA_NAMES)));
    let reshuffledWithoutStability = 0;
    fc.assert(
      fc.property(joined, ([i, extra]) => {
        fc.pre(!i.clusters.some((c) => c.name === extra.name) && oracleEligible(extra, i.request, i.now));
        const before = run(i.clusters, i.request, i.now);
        fc.pre(before.scheduled && before.placements.length > 0);
        const after = run([...i.clusters, extra], { ...i.request, current: asCurrent(before) }, i.now);
        assert.deepEqual(after.placements, before.placements);
        if (JSON.stringify(run([...i.clusters, extra], i.request, i.now).placements) !== JSON.stringify(before.placements)) reshuffledWithoutStability++;
      }),
      fcParams(),
    );
    // Positive control: without the current placements, the new cluster does move replicas.
    assert.ok(reshuffledWithoutStability > 0, "no joining cluster changed a fresh decision");
  });

  it("keeps a feasible current placement when other clusters' free capacity (and so their scores) moves", () => {
    const moved = fc.tuple(input, fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 9, maxLength: 9 }));
    fc.assert(
      fc.property(moved, ([i, pods]) => {
        const before = run(i.clusters, i.request, i.now);
        fc.pre(before.scheduled && before.placements.length > 0);
        const used = new Set(before.placements.map((p) => p.cluster));
        const changed = i.clusters.map((c, k) => (used.has(c.name) ? c : { ...c, free: { cpuMilli: 64_000, memoryBytes: 2 ** 40, pods: pods[k]! } }));
        const after = run(changed, { ...i.request, current: asCurrent(before) }, i.now);
        assert.deepEqual(after.placements, before.placements);
      }),
      fcParams(),
    );
  });

  it("never places on an ineligible cluster, whatever the current placements say", () => {
    fc.assert(
      fc.property(withCurrent, ([i, current]) => {
        const d = run(i.clusters, { ...i.request, current }, i.now);
        const byName = new Map(i.clusters.map((c) => [c.name, c]));
        for (const p of d.placements) assert.ok(oracleEligible(byName.get(p.cluster)!, i.request, i.now), `${p.cluster} is ineligible but kept ${p.replicas}`);
      }),
      fcParams(),
    );
  });

  it("still honours replicas, maxClusters, spread and capacity when it keeps current placements", () => {
    fc.assert(
      fc.property(withCurrent, ([i, current]) => {
        const d = run(i.clusters, { ...i.request, current }, i.now);
        if (!d.scheduled) return;
        const byName = new Map(i.clusters.map((c) => [c.name, c]));
        if (i.request.mode === "Divided") assert.equal(d.placements.reduce((s, p) => s + p.replicas, 0), i.request.replicas);
        else for (const p of d.placements) assert.equal(p.replicas, i.request.replicas);
        if (i.request.maxClusters !== undefined) assert.ok(d.placements.length <= i.request.maxClusters);
        assert.ok(new Set(d.placements.map((p) => p.country)).size >= (i.request.minCountries ?? 1));
        for (const p of d.placements) assert.ok(p.replicas >= 1 && p.replicas <= oracleFit(byName.get(p.cluster)!, i.request), `${p.cluster}: ${p.replicas}`);
      }),
      fcParams(),
    );
  });

  it("decides the same whatever the order of the clusters and of the current placements", () => {
    const permuted = withCurrent.chain(([i, current]) =>
      fc.tuple(fc.constant(i), fc.constant(current), fc.shuffledSubarray(i.clusters, { minLength: i.clusters.length, maxLength: i.clusters.length }), fc.shuffledSubarray(current, { minLength: current.length, maxLength: current.length })),
    );
    fc.assert(
      fc.property(permuted, ([i, current, shuffled, shuffledCurrent]) => {
        const a = run(i.clusters, { ...i.request, current }, i.now);
        assert.deepEqual(run(shuffled, { ...i.request, current: shuffledCurrent }, i.now), a);
        assert.deepEqual(run(structuredClone(i.clusters), { ...structuredClone(i.request), current: structuredClone(current) }, i.now), a);
      }),
      fcParams(),
    );
  });

  it("moves as few replicas as it can when only replicas change and the same clusters still fit", () => {
    const rescaled = fc.tuple(input, fc.integer({ min: 1, max: 12 }));
    fc.assert(
      fc.property(rescaled, ([i, replicas]) => {
        fc.pre(i.request.mode === "Divided");
        const before = run(i.clusters, i.request, i.now);
        fc.pre(before.scheduled && before.placements.length > 0);
        const after = run(i.clusters, { ...i.request, replicas, current: asCurrent(before) }, i.now);
        if (!after.scheduled) return;
        const was = new Map(before.placements.map((p) => [p.cluster, p.replicas]));
        const sameClusters = after.placements.length === before.placements.length && after.placements.every((p) => was.has(p.cluster));
        if (!sameClusters) return;
        // Scaling up only adds, scaling down only removes: no cluster both loses and another gains.
        for (const p of after.placements) {
          if (replicas >= i.request.replicas) assert.ok(p.replicas >= was.get(p.cluster)!, `${p.cluster} lost replicas on a scale-up`);
          else assert.ok(p.replicas <= was.get(p.cluster)!, `${p.cluster} gained replicas on a scale-down`);
        }
      }),
      fcParams(),
    );
  });
});
