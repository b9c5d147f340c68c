// Properties of the path from API objects to a decision (adapt.ts through decideWorkload),
// over arbitrary valid MemberClusters, ResidencyPolicies and SovereignWorkloads.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Certification, MemberCluster, ResidencyPolicy, ResidencyPolicySpec, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { createSnapshot, decideWorkload, defaultProfile, filterClusters, schedulingInputsOf, type WorkloadDecisionInput } from "../../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, residencyPolicy, sovereignWorkload } from "../../../support/builders.ts";
import { fcParams } from "./runs.ts";

// Countries with the jurisdiction the API requires of them.
const PLACES = [
  { country: "FR", jurisdiction: "EU" },
  { country: "DE", jurisdiction: "EU" },
  { country: "NO", jurisdiction: "EEA" },
  { country: "CH", jurisdiction: "NONE" },
] as const;
const CERTS = ["HDS", "SecNumCloud", "C5"] as const;
const LAWS = ["US-CLOUD-Act", "US-FISA-702"] as const;
/** Yesterday, today, far ahead, long ago, relative to NOW. */
const VALID_UNTIL = ["2026-11-27", "2026-11-28", "2027-06-30", "2020-01-01", "2026-11-28T12:00:00Z"] as const;
/** Dates the schema accepts in shape but no calendar has, and text from a hand-built object. */
const UNREADABLE = ["2027-02-30", "2026-13-01", "soon", ""] as const;

const certification: fc.Arbitrary<Certification> = fc.record({ name: fc.constantFrom(...CERTS), validUntil: fc.constantFrom(...VALID_UNTIL) });

const clusterArb = (name: string): fc.Arbitrary<MemberCluster> =>
  fc
    .record({
      place: fc.constantFrom(...PLACES),
      region: fc.constantFrom("r1", "r2"),
      exposure: fc.oneof({ weight: 3, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray([...LAWS], { minLength: 1 }) }),
      certifications: fc.array(certification, { maxLength: 3 }),
      ready: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      pods: fc.integer({ min: 0, max: 20 }),
    })
    .map((c) =>
      memberCluster({
        name,
        labels: {},
        residency: { ...c.place, region: c.region, extraterritorialExposure: c.exposure, certifications: c.certifications },
        taints: [],
        status: {
          conditions: [{ type: "Ready", status: c.ready ? "True" : "False", lastTransitionTime: "2026-11-28T00:00:00Z", reason: "R", message: "" }],
          allocatable: { cpu: "64", memory: "256Gi", pods: String(c.pods) },
        },
      }),
    );
const clustersArb = fc.tuple(...["a", "b", "c", "d", "e"].map(clusterArb)).chain((cs) => fc.subarray(cs, { minLength: 1 }));

const constraintsArb: fc.Arbitrary<ResidencyPolicySpec> = fc
  .record(
    {
      allowedCountries: fc.subarray(PLACES.map((p) => p.country)),
      allowedJurisdictions: fc.subarray(["EU", "EEA", "NONE"]),
      requiredCertifications: fc.subarray([...CERTS], { maxLength: 2 }),
      forbidExtraterritorialExposure: fc.boolean(),
    },
    { requiredKeys: [] },
  );

const workloadArb = (residency: fc.Arbitrary<ResidencyPolicySpec | undefined>, policy: boolean): fc.Arbitrary<SovereignWorkload> =>
  fc.record({ residency, replicas: fc.integer({ min: 0, max: 6 }), mode: fc.constantFrom("Divided" as const, "Duplicated" as const), maxClusters: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) }).map((w) =>
    sovereignWorkload({
      spec: {
        replicas: w.replicas,
        residencyPolicy: policy ? "p" : undefined,
        residency: w.residency,
        placement: { mode: w.mode, ...(w.maxClusters !== undefined ? { maxClusters: w.maxClusters } : {}) },
      },
    }),
  );

function eligible(input: WorkloadDecisionInput): Set<string> {
  const { request, clusters } = schedulingInputsOf(input);
  const snapshot = createSnapshot(clusters);
  return new Set(filterClusters({ snapshot, request, now: input.now, profile: defaultProfile }).eligible.map((c) => c.name));
}

const decideOn = (workload: SovereignWorkload, clusters: MemberCluster[], policies: ResidencyPolicy[]): WorkloadDecisionInput => ({ workload, clusters, policies, workloads: [workload], now: NOW });

describe("from API objects to a decision (properties)", () => {
  it("is never looser with a policy and inline constraints than with the policy alone or the inline constraints alone", () => {
    const input = fc.record({ clusters: clustersArb, policy: constraintsArb, inline: constraintsArb, workload: workloadArb(fc.constant(undefined), true) });
    fc.assert(
      fc.property(input, ({ clusters, policy, inline, workload }) => {
        const policies = [residencyPolicy({ name: "p", spec: { allowedCountries: undefined, requiredCertifications: undefined, ...policy } })];
        const both = { ...workload, spec: { ...workload.spec, residency: inline } };
        const { residencyPolicy: _named, ...inlineOnlySpec } = both.spec;
        const inlineOnly = { ...workload, spec: inlineOnlySpec };
        const policyOnly = workload;
        const e = { both: eligible(decideOn(both, clusters, policies)), policy: eligible(decideOn(policyOnly, clusters, policies)), inline: eligible(decideOn(inlineOnly, clusters, policies)) };
        for (const name of e.both) {
          assert.ok(e.policy.has(name), `${name} is eligible under policy + inline but not under the policy alone`);
          assert.ok(e.inline.has(name), `${name} is eligible under policy + inline but not under the inline constraints alone`);
        }
        for (const p of decideWorkload(decideOn(both, clusters, policies)).placements) assert.ok(e.policy.has(p.cluster) && e.inline.has(p.cluster), p.cluster);
      }),
      fcParams(),
    );
  });

  describe("an absent or unreadable fact never makes a cluster eligible", () => {
    const input = fc.record({ clusters: clustersArb, pick: fc.nat(), workload: workloadArb(constraintsArb, false) });
    const pickOf = (clusters: MemberCluster[], pick: number) => clusters[pick % clusters.length]!;
    const replace = (clusters: MemberCluster[], c: MemberCluster) => clusters.map((x) => (x.metadata.name === c.metadata.name ? c : x));

    it("a missing extraterritorialExposure counts as exposed, never as none", () => {
      let decisive = 0;
      fc.assert(
        fc.property(input, ({ clusters, pick, workload }) => {
          const c = pickOf(clusters, pick);
          const { extraterritorialExposure: _e, ...silent } = c.spec.residency;
          const missing = { ...c, spec: { ...c.spec, residency: silent } } as MemberCluster;
          const exposed = { ...c, spec: { ...c.spec, residency: { ...c.spec.residency, extraterritorialExposure: ["US-CLOUD-Act"] } } };
          const name = c.metadata.name;
          const whenMissing = eligible(decideOn(workload, replace(clusters, missing), [])).has(name);
          const whenExposed = eligible(decideOn(workload, replace(clusters, exposed), [])).has(name);
          const whenNone = eligible(decideOn(workload, replace(clusters, { ...c, spec: { ...c.spec, residency: { ...c.spec.residency, extraterritorialExposure: [] } } }), [])).has(name);
          assert.equal(whenMissing, whenExposed, `${name}: missing exposure decided as ${whenMissing ? "eligible" : "ineligible"}, declared exposure as ${whenExposed ? "eligible" : "ineligible"}`);
          if (whenNone && !whenExposed) decisive++;
        }),
        fcParams(),
      );
      // Positive control: inputs where reading "missing" as "none" would have made a difference occurred.
      assert.ok(decisive > 0, "no input forbade exposure on an otherwise eligible cluster");
    });

    it("an unreadable validUntil counts as no certification at all", () => {
      const withBad = fc.tuple(input, fc.constantFrom(...UNREADABLE), fc.nat());
      let decisive = 0;
      fc.assert(
        fc.property(withBad, ([{ clusters, pick, workload }, bad, which]) => {
          const c = pickOf(clusters, pick);
          const certs = c.spec.residency.certifications ?? [];
          fc.pre(certs.length > 0);
          const k = which % certs.length;
          const unreadable = { ...c, spec: { ...c.spec, residency: { ...c.spec.residency, certifications: certs.map((x, i) => (i === k ? { ...x, validUntil: bad } : x)) } } };
          const dropped = { ...c, spec: { ...c.spec, residency: { ...c.spec.residency, certifications: certs.filter((_, i) => i !== k) } } };
          const far = { ...c, spec: { ...c.spec, residency: { ...c.spec.residency, certifications: certs.map((x, i) => (i === k ? { ...x, validUntil: "2099-01-01" } : x)) } } };
          const name = c.metadata.name;
          const whenUnreadable = eligible(decideOn(workload, replace(clusters, unreadable), [])).has(name);
          const whenDropped = eligible(decideOn(workload, replace(clusters, dropped), [])).has(name);
          assert.ok(!whenUnreadable || whenDropped, `${name} is eligible with validUntil ${JSON.stringify(bad)} but not without that certification`);
          if (eligible(decideOn(workload, replace(clusters, far), [])).has(name) && !whenDropped) decisive++;
        }),
        fcParams(),
      );
      assert.ok(decisive > 0, "no input required the certification that was made unreadable");
    });

    it("a cluster with no status is never eligible, and never placed on", () => {
      fc.assert(
        fc.property(input, ({ clusters, pick, workload }) => {
          const c = pickOf(clusters, pick);
          const { status: _s, ...statusless } = c;
          const cs = replace(clusters, statusless);
          assert.ok(!eligible(decideOn(workload, cs, [])).has(c.metadata.name));
          assert.ok(!decideWorkload(decideOn(workload, cs, [])).placements.some((p) => p.cluster === c.metadata.name));
        }),
        fcParams(),
      );
    });
  });
});
