import assert from "node:assert/strict";
import type { MemberCluster, MemberClusterStatus, ResidencyPolicySpec, SovereignWorkload } from "../../../operator/src/api/index.ts";
import type { ResidencyRequirements } from "../../../operator/src/gen/sovereign/v1/residency.ts";
import {
  clusterViewOf, decideWorkload, decisionOf, evictionReasons, explainWorkload, mustEvict, nextDecisionChange, NOTHING_ALLOWED, placementRequestOf, PolicyNotFoundError, Reason, ReasonClass, reasonClass,
  residencyRequirementsOf, schedulingInputsOf, simulateObjects, type Decision,
} from "../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, residencyPolicy, sovereignWorkload } from "../../support/builders.ts";

const notReady: MemberClusterStatus = { conditions: [{ type: "Ready", status: "False", lastTransitionTime: "2026-11-28T00:00:00Z", reason: "HeartbeatMissed", message: "" }], allocatable: { cpu: "64", memory: "256Gi", pods: "110" } };
const fr = (name: string, extra: Parameters<typeof memberCluster>[0] = {}) => memberCluster({ name, taints: [], ...extra });
const de = (name: string, extra: Parameters<typeof memberCluster>[0] = {}) => memberCluster({ name, taints: [], residency: { country: "DE", region: "eu-central-fra" }, ...extra });
const placed = (d: Pick<Decision, "placements">) => Object.fromEntries(d.placements.map((p) => [p.cluster, p.replicas]));
const policies = [residencyPolicy({ name: "eu", spec: { allowedCountries: ["FR", "DE"], requiredCertifications: undefined } })];
const eu = (spec: Parameters<typeof sovereignWorkload>[0] = {}) => sovereignWorkload({ ...spec, spec: { residencyPolicy: "eu", ...spec.spec } });

describe("decideWorkload: the one path from API objects to a decision", () => {
  it("refuses to decide when the named policy is absent, rather than decide on the inline constraints alone", () => {
    const w = sovereignWorkload({ spec: { residencyPolicy: "missing", residency: { allowedCountries: ["FR"] } } });
    assert.throws(() => decideWorkload({ workload: w, clusters: [fr("a")], policies: [], workloads: [w], now: NOW }), PolicyNotFoundError);
  });

  it("reads policies from a list or from anything with get(name), such as an informer's cache", () => {
    const w = eu();
    const fromList = decideWorkload({ workload: w, clusters: [fr("a"), de("b")], policies, workloads: [w], now: NOW });
    const fromCache = decideWorkload({ workload: w, clusters: [fr("a"), de("b")], policies: new Map(policies.map((p) => [p.metadata.name, p])), workloads: [w], now: NOW });
    assert.deepEqual(fromCache, fromList);
    assert.equal(fromList.scheduled, true);
  });

  it("simulate runs what Explain runs: the same planned decision for every workload", () => {
    const clusters = [fr("a"), de("b"), fr("c", { status: null })];
    const workloads = [eu({ name: "x" }), eu({ name: "y", spec: { replicas: 5 }, status: { placements: [{ cluster: "b", country: "DE", replicas: 5 }] } })];
    const simulated = simulateObjects({ clusters, policies, workloads, now: NOW });
    assert.deepEqual(simulated, workloads.map((workload) => decisionOf(explainWorkload({ workload, clusters, policies, workloads, now: NOW }))));
  });

  it("keeps the workload's current placements from its status when they still fit", () => {
    const w = eu({ spec: { replicas: 3 }, status: { placements: [{ cluster: "b", country: "DE", replicas: 3 }] } });
    const fresh = decideWorkload({ workload: w, clusters: [fr("a"), de("b")], policies, workloads: [w], now: NOW, current: [] });
    assert.notDeepEqual(placed(fresh), { b: 3 }, "positive control: a fresh decision spreads over both");
    const d = decideWorkload({ workload: w, clusters: [fr("a"), de("b")], policies, workloads: [w], now: NOW });
    assert.deepEqual(placed(d), { b: 3 });
    assert.deepEqual(d.unselected, [{ cluster: "a", reason: "PlacementKept" }]);
  });

  it("moves replicas off a current cluster that is no longer eligible", () => {
    const w = eu({ spec: { replicas: 2 }, status: { placements: [{ cluster: "b", country: "DE", replicas: 2 }] } });
    const d = decideWorkload({ workload: w, clusters: [fr("a"), de("b", { residency: { country: "DE", region: "fra", extraterritorialExposure: ["US-CLOUD-Act"] } })], policies: [residencyPolicy({ name: "eu", spec: { allowedCountries: ["FR", "DE"], requiredCertifications: undefined, forbidExtraterritorialExposure: true } })], workloads: [w], now: NOW });
    assert.deepEqual(placed(d), { a: 2 });
  });

  it("re-divides over the same clusters when only replicas change, adding where there is room", () => {
    const w = eu({ spec: { replicas: 6 }, status: { placements: [{ cluster: "a", country: "FR", replicas: 2 }, { cluster: "b", country: "DE", replicas: 2 }] } });
    const d = decideWorkload({ workload: w, clusters: [fr("a"), de("b"), fr("c")], policies, workloads: [w], now: NOW });
    assert.deepEqual(placed(d), { a: 3, b: 3 });
    const down = decideWorkload({ workload: w, clusters: [fr("a"), de("b"), fr("c")], policies, workloads: [w], now: NOW, replicas: 3 });
    assert.deepEqual(placed(down), { a: 2, b: 1 });
  });

  it("explains a NotReady holder within its toleration as keeping its replicas, as the controller does (positive control: past it they move)", () => {
    const w = eu({ spec: { replicas: 2 }, status: { placements: [{ cluster: "b", country: "DE", replicas: 2 }] } });
    const clusters = [fr("a"), de("b", { status: notReady })];
    // b went NotReady at NOW; the default toleration is 30 s.
    assert.deepEqual(placed(decideWorkload({ workload: w, clusters, policies, workloads: [w], now: NOW })), { a: 2 }, "the core alone moves them at once");
    assert.deepEqual(placed(explainWorkload({ workload: w, clusters, policies, workloads: [w], now: NOW + 29_999 })), { b: 2 });
    assert.deepEqual(placed(explainWorkload({ workload: w, clusters, policies, workloads: [w], now: NOW + 30_000 })), { a: 2 });
  });

  it("narrows with extraConstraints (failover kept in one country) and never widens", () => {
    const w = eu({ spec: { replicas: 2 } });
    const d = decideWorkload({ workload: w, clusters: [fr("a"), de("b")], policies, workloads: [w], now: NOW, extraConstraints: [{ allowedCountries: ["DE"] }] });
    assert.deepEqual(placed(d), { b: 2 });
    const wider = decideWorkload({ workload: w, clusters: [fr("a"), de("b"), memberCluster({ name: "n", taints: [], residency: { country: "NO", jurisdiction: "EEA" } })], policies, workloads: [w], now: NOW, extraConstraints: [{ allowedCountries: ["NO"] }] });
    assert.equal(wider.scheduled, false);
    assert.equal(wider.reason, "NoCompliantCluster");
  });

  it("counts the other workloads' assumed placements instead of their status", () => {
    const small = (name: string) => fr(name, { status: { conditions: notReady.conditions!.map((c) => ({ ...c, status: "True" })), allocatable: { pods: "2" } } });
    const other = sovereignWorkload({ name: "other", spec: { replicas: 2 } });
    const w = sovereignWorkload({ spec: { replicas: 2 } });
    const clusters = [small("a"), small("b")];
    assert.equal(placed(decideWorkload({ workload: w, clusters, policies: [], workloads: [w, other], now: NOW })).a, 1);
    const d = decideWorkload({ workload: w, clusters, policies: [], workloads: [w, other], now: NOW, assumed: new Map([["ns/other", [{ cluster: "a", replicas: 2 }]]]) });
    assert.deepEqual(placed(d), { b: 2 });
  });
});

describe("residencyRequirementsOf", () => {
  const rows: { what: string; policy?: Partial<ResidencyPolicySpec>; inline?: SovereignWorkload["spec"]["residency"]; expected: ResidencyRequirements }[] = [
    { what: "the policy alone", policy: { allowedCountries: ["FR"], requiredCertifications: ["HDS"] }, expected: { allowedCountries: ["FR"], allowedJurisdictions: [], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: false } },
    { what: "inline alone", inline: { allowedJurisdictions: ["EU"], forbidExtraterritorialExposure: true }, expected: { allowedCountries: [], allowedJurisdictions: ["EU"], requiredCertifications: [], forbidExtraterritorialExposure: true } },
    {
      what: "the intersection of both lists, the union of certifications, either's exposure ban",
      policy: { allowedCountries: ["FR", "DE", "IT"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true },
      inline: { allowedCountries: ["DE", "FR"], requiredCertifications: ["C5", "HDS"], forbidExtraterritorialExposure: false },
      expected: { allowedCountries: ["DE", "FR"], allowedJurisdictions: [], requiredCertifications: ["C5", "HDS"], forbidExtraterritorialExposure: true },
    },
    {
      what: "a list that allows nothing when the two have nothing in common, never an empty one (which allows all)",
      policy: { allowedCountries: ["FR"], requiredCertifications: undefined },
      inline: { allowedCountries: ["DE"] },
      expected: { allowedCountries: [NOTHING_ALLOWED], allowedJurisdictions: [], requiredCertifications: [], forbidExtraterritorialExposure: false },
    },
  ];
  for (const row of rows) {
    it(`gives ${row.what}`, () => {
      const workload = sovereignWorkload({ spec: { residencyPolicy: row.policy ? "p" : undefined, residency: row.inline } });
      const policy = row.policy ? residencyPolicy({ name: "p", spec: { allowedCountries: undefined, requiredCertifications: undefined, ...row.policy } }) : undefined;
      // Typed as the protobuf message: the shape the intents carry to the member's guard.
      const requirements: ResidencyRequirements = residencyRequirementsOf({ workload, policy });
      assert.deepEqual(requirements, row.expected);
    });
  }

  it("throws PolicyNotFoundError when the named policy is not given", () => {
    assert.throws(() => residencyRequirementsOf({ workload: sovereignWorkload({ spec: { residencyPolicy: "p" } }) }), PolicyNotFoundError);
  });
});

describe("residency first, then availability", () => {
  it("classes every rejection reason as residency or availability", () => {
    const residency = [Reason.CountryNotAllowed, Reason.JurisdictionNotAllowed, Reason.MissingCertification, Reason.CertificationExpired, Reason.ExtraterritorialExposure, Reason.SelectorMismatch];
    for (const r of Object.values(Reason)) assert.equal(reasonClass(r), residency.includes(r as (typeof residency)[number]) ? ReasonClass.Residency : ReasonClass.Availability, r);
  });

  const request = (w: SovereignWorkload) => placementRequestOf({ workload: w, policy: residencyPolicy({ name: "health" }) });
  const health = sovereignWorkload({ spec: { residencyPolicy: "health" } });
  const view = (c: MemberCluster) => clusterViewOf({ cluster: c });
  const rows: { what: string; cluster: MemberCluster; workload?: SovereignWorkload; evict: readonly string[] }[] = [
    { what: "a compliant, ready cluster", cluster: fr("a"), evict: [] },
    { what: "a NotReady cluster (availability: wait out the toleration)", cluster: fr("a", { status: notReady }), evict: [] },
    { what: "a full cluster", cluster: fr("a", { status: { conditions: notReady.conditions!.map((c) => ({ ...c, status: "True" })), allocatable: { pods: "0" } } }), evict: [] },
    { what: "a NoSchedule taint", cluster: fr("a", { taints: [{ key: "maintenance", effect: "NoSchedule" }] }), evict: [] },
    { what: "a NoExecute taint the workload does not tolerate", cluster: fr("a", { taints: [{ key: "quarantine", effect: "NoExecute" }] }), evict: ["Tainted"] },
    {
      what: "a NoExecute taint the workload tolerates",
      cluster: fr("a", { taints: [{ key: "quarantine", effect: "NoExecute" }] }),
      workload: sovereignWorkload({ spec: { residencyPolicy: "health", template: { spec: { containers: [{ name: "c", image: "i" }], tolerations: [{ key: "quarantine", operator: "Exists" }] } } } }),
      evict: [],
    },
    { what: "an expired required certification", cluster: fr("a", { residency: { certifications: [{ name: "HDS", validUntil: "2026-11-27" }] } }), evict: ["CertificationExpired"] },
    { what: "a country outside the policy, and not ready", cluster: de("b", { status: notReady }), evict: ["CountryNotAllowed"] },
  ];
  for (const row of rows) {
    it(`${row.evict.length ? "evicts at once from" : "does not evict from"} ${row.what}`, () => {
      const r = request(row.workload ?? health);
      assert.deepEqual(evictionReasons({ cluster: view(row.cluster), request: r, now: NOW }), row.evict);
      assert.equal(mustEvict({ cluster: view(row.cluster), request: r, now: NOW }), row.evict.length > 0);
    });
  }
});

describe("nextDecisionChange", () => {
  const hds = sovereignWorkload({ spec: { residencyPolicy: "health" } });
  const policy = [residencyPolicy({ name: "health" })];
  it("is the earliest end of a required certification after now, on any cluster", () => {
    const clusters = [fr("a", { residency: { certifications: [{ name: "HDS", validUntil: "2027-01-01" }] } }), fr("b", { residency: { certifications: [{ name: "HDS", validUntil: "2026-12-05" }, { name: "C5", validUntil: "2026-11-29" }] } })];
    const { request, clusters: views } = schedulingInputsOf({ workload: hds, clusters, policies: policy, workloads: [], now: NOW });
    assert.equal(nextDecisionChange({ clusters: views, request, now: NOW }), Date.parse("2026-12-06T00:00:00Z"));
  });

  it("ignores certifications already expired and those the workload does not need", () => {
    const clusters = [fr("a", { residency: { certifications: [{ name: "HDS", validUntil: "2026-11-01" }, { name: "C5", validUntil: "2026-11-29" }] } })];
    const { request, clusters: views } = schedulingInputsOf({ workload: hds, clusters, policies: policy, workloads: [], now: NOW });
    assert.equal(nextDecisionChange({ clusters: views, request, now: NOW }), undefined);
  });

  it("counts a certification named only by a selector's certification label", () => {
    const w = sovereignWorkload({ spec: { residency: { clusterSelector: { matchExpressions: [{ key: "certification.sovereignty.eu/c5", operator: "Exists" }] } } } });
    const clusters = [fr("a", { residency: { certifications: [{ name: "C5", validUntil: "2026-11-30" }] } })];
    const { request, clusters: views } = schedulingInputsOf({ workload: w, clusters, policies: [], workloads: [], now: NOW });
    assert.equal(nextDecisionChange({ clusters: views, request, now: NOW }), Date.parse("2026-12-01T00:00:00Z"));
  });
});
