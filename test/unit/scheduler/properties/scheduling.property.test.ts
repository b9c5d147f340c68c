import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createSnapshot, decide, defaultProfile, filterClusters, Reason, reasonsOf, UnselectedReason, type ClusterView, type Decision, type PlacementRequest,
} from "../../../../operator/src/scheduler/index.ts";
import { clusters, clusterView, constraints, now, placementRequest } from "./arbitraries.ts";
import { certificationStillValid, oracleEligible, oracleReasons } from "./oracle.ts";
import { fcParams } from "./runs.ts";

const API_REASONS = new Set<string>(Object.values(Reason));
const UNSELECTED_REASONS = new Set<string>(Object.values(UnselectedReason));
const input = fc.record({ clusters, request: placementRequest, now });
const scaledUp = input.filter((i) => i.request.replicas > 0);
const scaledToZero = input.map((i) => ({ ...i, request: { ...i.request, replicas: 0 } }));
const run = ({ clusters: cs, request, now: t }: { clusters: ClusterView[]; request: PlacementRequest; now: number }): Decision =>
  decide({ clusters: cs, request, now: t });

describe("scheduler properties", function () {
  // 100,000 runs (npm run test:property) take longer than mocha's default timeout.
  this.timeout(600_000);

  it("never places a replica on a cluster that API.md's semantics make ineligible", () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = run(i);
        const byName = new Map(i.clusters.map((c) => [c.name, c]));
        for (const p of d.placements) assert.ok(oracleEligible(byName.get(p.cluster)!, i.request, i.now), `${p.cluster} is ineligible but got ${p.replicas}`);
      }),
      fcParams(),
    );
  });

  it("rejects in the filters exactly the clusters API.md rejects, for the same reasons", () => {
    fc.assert(
      fc.property(input, (i) => {
        const snapshot = createSnapshot(i.clusters);
        const { verdicts } = filterClusters({ snapshot, request: i.request, now: i.now, profile: defaultProfile });
        snapshot.clusters.forEach((c, k) => {
          assert.deepEqual(new Set(reasonsOf(verdicts[k]!)), oracleReasons(c.view, i.request, i.now), c.name);
        });
      }),
      fcParams(),
    );
  });

  it("places exactly spec.replicas in Divided mode, and spec.replicas in each cluster in Duplicated mode, when scheduled", () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = run(i);
        if (!d.scheduled) return;
        if (i.request.mode === "Divided") assert.equal(d.placements.reduce((s, p) => s + p.replicas, 0), i.request.replicas);
        else for (const p of d.placements) assert.equal(p.replicas, i.request.replicas);
        for (const p of d.placements) assert.ok(p.replicas >= 1);
      }),
      fcParams(),
    );
  });

  it("honours maxClusters and spread.minCountries when scheduled with at least one replica", () => {
    // Zero replicas place nothing, so no spread can hold: that case has its own property below.
    fc.assert(
      fc.property(scaledUp, (i) => {
        const d = run(i);
        if (!d.scheduled) return;
        if (i.request.maxClusters !== undefined) assert.ok(d.placements.length <= i.request.maxClusters);
        assert.ok(new Set(d.placements.map((p) => p.country)).size >= (i.request.minCountries ?? 1));
      }),
      fcParams(),
    );
  });

  it("schedules a workload scaled to zero with no placement at all, whatever its spread and maxClusters: zero replicas are not an error", () => {
    fc.assert(
      fc.property(scaledToZero, (i) => {
        const d = run(i);
        const eligible = i.clusters.filter((c) => oracleEligible(c, i.request, i.now)).map((c) => c.name).sort();
        if (eligible.length === 0) {
          // Nothing compliant is still said, even with nothing to place.
          assert.equal(d.reason, "NoCompliantCluster");
          return;
        }
        assert.equal(d.scheduled, true);
        assert.equal(d.reason, "Scheduled");
        assert.deepEqual(d.placements, []);
        assert.deepEqual(d.unselected, eligible.map((cluster) => ({ cluster, reason: "NoReplicasLeft" })));
      }),
      fcParams(),
    );
  });

  it("decides the same whatever the order of the clusters", () => {
    const permuted = input.chain((i) => fc.tuple(fc.constant(i), fc.shuffledSubarray(i.clusters, { minLength: i.clusters.length, maxLength: i.clusters.length })));
    fc.assert(
      fc.property(permuted, ([i, shuffled]) => {
        assert.deepEqual(run({ ...i, clusters: shuffled }), run(i));
      }),
      fcParams(),
    );
  });

  it("gives the same output for the same input", () => {
    fc.assert(
      fc.property(input, (i) => {
        assert.deepEqual(run(structuredClone(i)), run(i));
      }),
      fcParams(),
    );
  });

  it("changes nothing but the rejected list when an ineligible cluster is added", () => {
    const spoil = fc.constantFrom<Partial<ClusterView>[]>(
      [{ ready: false }],
      [{ country: "US", jurisdiction: "NONE" }],
      [{ extraterritorialExposure: ["US-CLOUD-Act"] }],
      [{ certifications: [] }],
      [{ taints: [{ key: "quarantine", effect: "NoExecute" }] }],
      [{ free: { cpuMilli: 0, memoryBytes: 0, pods: 0 } }],
    );
    const withExtra = fc.tuple(input, clusterView(fc.constantFrom("0-extra", "m-extra", "zz-extra")), spoil).map(([i, extra, [s]]) => ({ i, extra: { ...extra, ...s } }));
    fc.assert(
      fc.property(withExtra, ({ i, extra }) => {
        fc.pre(!oracleEligible(extra, i.request, i.now));
        const before = run(i);
        const after = run({ ...i, clusters: [...i.clusters, extra] });
        assert.equal(after.scheduled, before.scheduled);
        assert.equal(after.reason, before.reason);
        assert.deepEqual(after.placements, before.placements);
        assert.deepEqual(after.unselected, before.unselected);
        assert.deepEqual(after.rejected.filter((r) => r.cluster !== extra.name), before.rejected);
        assert.ok(after.rejected.some((r) => r.cluster === extra.name));
      }),
      fcParams(),
    );
  });

  it("never counts an expired certification", () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = run(i);
        const required = i.request.constraints.flatMap((k) => k.requiredCertifications ?? []);
        const byName = new Map(i.clusters.map((c) => [c.name, c]));
        for (const p of d.placements) {
          for (const name of required) {
            assert.ok(byName.get(p.cluster)!.certifications.some((c) => c.name === name && certificationStillValid(c.validUntil, i.now)), `${p.cluster} lacks a valid ${name}`);
          }
        }
        for (const r of d.rejected) {
          const c = byName.get(r.cluster)!;
          const onlyExpired = required.some((name) => c.certifications.some((x) => x.name === name) && !c.certifications.some((x) => x.name === name && certificationStillValid(x.validUntil, i.now)));
          if (onlyExpired) assert.ok(r.reasons.includes("CertificationExpired"), r.cluster);
        }
      }),
      fcParams(),
    );
  });

  it("gives an unschedulable workload no placement at all, and rejects every cluster", () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = run(i);
        if (d.scheduled) return;
        assert.deepEqual(d.placements, []);
        assert.deepEqual(d.rejected.map((r) => r.cluster).sort(), i.clusters.map((c) => c.name).sort());
      }),
      fcParams(),
    );
  });

  it("gives every rejected cluster at least one reason from API.md, and never both places and rejects a cluster", () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = run(i);
        const placed = new Set(d.placements.map((p) => p.cluster));
        for (const r of d.rejected) {
          assert.ok(r.reasons.length >= 1, r.cluster);
          for (const reason of r.reasons) assert.ok(API_REASONS.has(reason), reason);
          assert.ok(!placed.has(r.cluster), r.cluster);
        }
      }),
      fcParams(),
    );
  });

  it("accounts for every input cluster exactly once: placed, rejected, or eligible but unselected", () => {
    fc.assert(
      fc.property(input, (i) => {
        const d = run(i);
        const seen = [...d.placements.map((p) => p.cluster), ...d.rejected.map((r) => r.cluster), ...d.unselected.map((u) => u.cluster)];
        assert.deepEqual([...seen].sort(), i.clusters.map((c) => c.name).sort());
        const byName = new Map(i.clusters.map((c) => [c.name, c]));
        for (const u of d.unselected) {
          assert.ok(UNSELECTED_REASONS.has(u.reason), u.reason);
          assert.ok(oracleEligible(byName.get(u.cluster)!, i.request, i.now), `${u.cluster} is unselected but ineligible`);
        }
        if (!d.scheduled) assert.deepEqual(d.unselected, []);
        assert.deepEqual(d.unselected.map((u) => u.cluster), [...d.unselected.map((u) => u.cluster)].sort());
      }),
      fcParams(),
    );
  });

  it("is never looser with policy and inline constraints than with either alone", () => {
    const withBoth = fc.tuple(input, constraints, constraints);
    fc.assert(
      fc.property(withBoth, ([i, policy, inline]) => {
        const snapshot = createSnapshot(i.clusters);
        const filtered = (cs: PlacementRequest["constraints"]) => filterClusters({ snapshot, request: { ...i.request, constraints: cs }, now: i.now, profile: defaultProfile });
        const both = filtered([policy, inline]);
        const onlyPolicy = filtered([policy]);
        const onlyInline = filtered([inline]);
        const names = (f: typeof both) => new Set(f.eligible.map((c) => c.name));
        for (const name of names(both)) {
          assert.ok(names(onlyPolicy).has(name) && names(onlyInline).has(name), name);
        }
        snapshot.clusters.forEach((c, k) => {
          for (const reason of [...reasonsOf(onlyPolicy.verdicts[k]!), ...reasonsOf(onlyInline.verdicts[k]!)]) assert.ok(reasonsOf(both.verdicts[k]!).includes(reason), `${c.name}: ${reason}`);
        });
        const d = decide({ snapshot, request: { ...i.request, constraints: [policy, inline] }, now: i.now });
        for (const p of d.placements) assert.ok(names(onlyPolicy).has(p.cluster) && names(onlyInline).has(p.cluster), p.cluster);
      }),
      fcParams(),
    );
  });
});
