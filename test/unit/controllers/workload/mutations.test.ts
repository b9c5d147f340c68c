// Tests written from a mutation review of the workload controller's pure logic: each one
// fails on a specific one-line change to the code (named in its comment) that the other
// tests let through, and passes on the real code. Those of the planning (holders, unmet,
// merge, trimTo) moved with it to test/unit/scheduler/planning/.
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { MemberCluster } from "../../../../operator/src/api/index.ts";
import { deletionPlan } from "../../../../operator/src/controllers/workload/finalizer.ts";
import type { Plan } from "../../../../operator/src/controllers/workload/plan.ts";
import { buildEvents, intentIdOf, requirementsOf } from "../../../../operator/src/controllers/workload/records.ts";
import { AuditAction } from "../../../../operator/src/gen/sovereign/v1/audit.ts";
import { placementRequestOf, type PlacementRequest } from "../../../../operator/src/scheduler/index.ts";
import { cluster, placed, run, T0, workload } from "./world.ts";

const byName = (cs: MemberCluster[]) => new Map(cs.map((c) => [c.metadata.name, c]));

describe("workload status: rejectedClusters of an unchanged placement", () => {
  it("does not reject an eligible cluster for spread when the placement kept needs no decision (the probe ignores spread)", () => {
    // de-1 is unreachable within its toleration, so the eligible clusters alone (fr-1,
    // fr-2) cover one country; the placement is kept as it is and fr-2 is merely unused.
    const w = workload({ replicas: 2, countries: ["FR", "DE"], minCountries: 2, placements: placed(["fr-1", "FR", 1], ["de-1", "DE", 1]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" }), cluster({ name: "de-1", country: "DE", ready: false, since: T0 - 10_000 })] });
    assert.deepEqual(s.placements.map((p) => [p.cluster, p.replicas]), [["de-1", 1], ["fr-1", 1]]);
    assert.deepEqual(s.status.rejectedClusters, []);
  });
});

const request = (r: Partial<PlacementRequest>): PlacementRequest => ({ workload: "default/w", replicas: 3, mode: "Divided", constraints: [], tolerations: [], perReplica: { cpuMilli: 0, memoryBytes: 0 }, ...r });
describe("workload desired step: scale-down over the clusters it holds", () => {
  it("Divided: 4 replicas on two clusters scaled to 3 runs exactly 3", () => {
    const s = run({ workload: workload({ replicas: 3, placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) }), clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" })] });
    assert.equal(s.placements.reduce((n, p) => n + p.replicas, 0), 3);
    assert.deepEqual(s.placements.map((p) => p.cluster), ["fr-1", "fr-2"]);
  });

  it("Duplicated: 3 replicas per cluster scaled to 2 runs 2 on each", () => {
    const s = run({ workload: workload({ replicas: 2, mode: "Duplicated", placements: placed(["fr-1", "FR", 3], ["fr-2", "FR", 3]) }), clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" })] });
    assert.deepEqual(s.placements.map((p) => [p.cluster, p.replicas]), [["fr-1", 2], ["fr-2", 2]]);
  });
});

describe("workload desired step: a changed request over clusters it holds", () => {
  it("Divided scale-up with an unreachable holder decides only the new replicas: the holder keeps exactly its own", () => {
    const w = workload({ replicas: 3, placements: placed(["fr-1", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", ready: false, since: T0 - 10_000 }), cluster({ name: "fr-2" })] });
    assert.deepEqual(s.placements.map((p) => [p.cluster, p.replicas]), [["fr-1", 2], ["fr-2", 1]]);
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "True");
  });

  it("a scale-up keeps the clusters it holds rather than spreading to a new one (stable placement)", () => {
    const clusters = [cluster({ name: "fr-1" }), cluster({ name: "fr-2" }), cluster({ name: "fr-3" })];
    const w = workload({ replicas: 3, placements: placed(["fr-1", "FR", 1], ["fr-2", "FR", 1]) });
    const s = run({ workload: w, clusters });
    assert.deepEqual(s.placements.map((p) => p.cluster), ["fr-1", "fr-2"]);
    assert.equal(s.placements.reduce((n, p) => n + p.replicas, 0), 3);
  });

  it("an unschedulable scale-down still scales down: never more replicas than asked (positive control: none removed beyond it)", () => {
    // minCountries 2 with French clusters only cannot be met, and replicas drop from 4 to 2.
    const w = workload({ replicas: 2, minCountries: 2, placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" })] });
    assert.equal(s.placements.reduce((n, p) => n + p.replicas, 0), 2);
    const scheduled = s.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "SpreadUnsatisfiable");
  });

  it("zero replicas requested is Scheduled even when no cluster is compliant: there is nothing to place", () => {
    const s = run({ workload: workload({ replicas: 0, countries: ["IT"] }), clusters: [cluster({ name: "fr-1" })] });
    assert.deepEqual(s.placements, []);
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "True");
  });
});

describe("workload desired step: caps and spread around clusters that keep their replicas", () => {
  it("re-places a lost cluster's replicas within what maxClusters leaves (one cluster), so the failover completes", () => {
    // Failover stays in France, where de-1's kept replicas cannot absorb them: one French
    // cluster must take both, or three clusters would exceed maxClusters 2.
    const w = workload({ replicas: 4, maxClusters: 2, crossBorder: false, placements: placed(["de-1", "DE", 2], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "de-1", country: "DE" }), cluster({ name: "fr-2", ready: false, since: T0 - 120_000 }), cluster({ name: "fr-3" }), cluster({ name: "fr-4" })] });
    assert.equal(s.placements.length, 2, JSON.stringify(s.placements));
    assert.equal(s.placements.reduce((n, p) => n + p.replicas, 0), 4);
    assert.ok(!s.placements.some((p) => p.cluster === "fr-2"));
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "True");
  });

  it("leaves a lost cluster's replicas where they are when moving them would break spread (positive control: they could move)", () => {
    // de-1 is the only German cluster: moving its replicas to fr-2 would leave one country.
    const clusters = [cluster({ name: "fr-1" }), cluster({ name: "fr-2" }), cluster({ name: "de-1", country: "DE", ready: false, since: T0 - 120_000 })];
    const w = workload({ replicas: 2, minCountries: 2, placements: placed(["fr-1", "FR", 1], ["de-1", "DE", 1]) });
    const s = run({ workload: w, clusters });
    assert.deepEqual(s.placements.map((p) => [p.cluster, p.replicas]), [["de-1", 1], ["fr-1", 1]]);
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "False");
    const control = run({ workload: workload({ replicas: 2, placements: placed(["fr-1", "FR", 1], ["de-1", "DE", 1]) }), clusters });
    assert.ok(!control.placements.some((p) => p.cluster === "de-1"), JSON.stringify(control.placements));
  });

  it("a scale-up counts the countries an unreachable holder covers toward minCountries", () => {
    const w = workload({ replicas: 3, minCountries: 2, placements: placed(["fr-1", "FR", 1], ["de-1", "DE", 1]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" }), cluster({ name: "de-1", country: "DE", ready: false, since: T0 - 10_000 })] });
    assert.equal(s.placements.reduce((n, p) => n + p.replicas, 0), 3);
    assert.equal(s.placements.find((p) => p.cluster === "de-1")?.replicas, 1);
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "True");
  });

  it("a scale-up counts an unreachable holder toward maxClusters", () => {
    const w = workload({ replicas: 4, maxClusters: 2, placements: placed(["fr-1", "FR", 1], ["de-1", "DE", 1]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" }), cluster({ name: "de-1", country: "DE", ready: false, since: T0 - 10_000 })] });
    assert.ok(s.placements.length <= 2, JSON.stringify(s.placements));
    assert.equal(s.placements.reduce((n, p) => n + p.replicas, 0), 4);
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "True");
  });
});

const report = (desiredReplicas: number, readyReplicas: number) => ({ desiredReplicas, readyReplicas, observedGeneration: 1, message: "" });
const condition = (s: { status: { conditions?: { type: string; status: string; reason: string; message: string }[] } }, type: string) => s.status.conditions?.find((c) => c.type === type);

describe("workload status: counts and conditions from the members' reports", () => {
  it("shows each member's ready pods as reported (more or fewer than its replicas), and counts none of a cluster being vacated", () => {
    // fr-1 is being emptied (certification expired) and still reports 2 ready pods; fr-2
    // reports more ready pods than it was given (a rollout's surge).
    const w = workload({ replicas: 4, certs: ["HDS"], placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) });
    const reports = new Map([["fr-1", report(2, 2)], ["fr-2", report(4, 5)]]);
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: [{ name: "HDS", validUntil: "2026-11-27" }] }), cluster({ name: "fr-2" })], reports });
    assert.deepEqual(s.status.placements?.map((p) => [p.cluster, p.replicas, p.readyReplicas]), [["fr-1", 0, 2], ["fr-2", 4, 5]]);
    assert.equal(s.status.readyReplicas, 5);
  });

  it("is not Ready while unschedulable, even when every placed replica is ready (positive control: scheduled and ready is Ready)", () => {
    const w = workload({ replicas: 2, minCountries: 2, placements: placed(["fr-1", "FR", 1], ["fr-2", "FR", 1]) });
    const reports = new Map([["fr-1", report(1, 1)], ["fr-2", report(1, 1)]]);
    const clusters = [cluster({ name: "fr-1" }), cluster({ name: "fr-2" })];
    const s = run({ workload: w, clusters, reports });
    assert.equal(condition(s, "Scheduled")?.status, "False");
    assert.equal(condition(s, "Ready")?.status, "False");
    const control = run({ workload: workload({ replicas: 2, placements: placed(["fr-1", "FR", 1], ["fr-2", "FR", 1]) }), clusters, reports });
    assert.equal(condition(control, "Ready")?.status, "True");
  });

  it("is not ResidencyCompliant while a non-compliant cluster still desires pods, none ready yet", () => {
    const w = workload({ forbidExposure: true, placements: [...placed(["fr-2", "FR", 3]), { cluster: "fr-1", country: "FR", replicas: 0 }] });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", exposed: true }), cluster({ name: "fr-2" })], reports: new Map([["fr-1", report(3, 0)]]) });
    assert.equal(condition(s, "ResidencyCompliant")?.status, "False");
  });

  it("is not ResidencyCompliant while a deleted MemberCluster still reports pods (positive control: a compliant one reporting is fine)", () => {
    const w = workload({ placements: placed(["gone-1", "FR", 1], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-2" })], reports: new Map([["gone-1", report(1, 1)], ["fr-2", report(2, 2)]]) });
    assert.equal(condition(s, "ResidencyCompliant")?.status, "False");
    assert.match(condition(s, "ResidencyCompliant")?.message ?? "", /gone-1/);
    const control = run({ workload: w, clusters: [cluster({ name: "fr-2" }), cluster({ name: "gone-1" })], reports: new Map([["gone-1", report(1, 1)], ["fr-2", report(2, 2)]]) });
    assert.equal(condition(control, "ResidencyCompliant")?.status, "True");
  });
});

describe("workload desired step: what a vacated cluster leaves in status", () => {
  it("keeps a cluster emptied now in status with 0 replicas, even if an older zero intent to it was acknowledged", () => {
    const w = workload({ replicas: 4, certs: ["HDS"], placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: [{ name: "HDS", validUntil: "2026-11-27" }] }), cluster({ name: "fr-2" })], acknowledged: new Set(["fr-1"]) });
    assert.equal(s.status.placements?.find((p) => p.cluster === "fr-1")?.replicas, 0);
    assert.ok(s.intents.some((i) => i.cluster === "fr-1" && i.replicas === 0));
  });
});

describe("workload records: audit, intents and events", () => {
  it("a scale-down writes one audit record, for the one cluster whose count changed", () => {
    const s = run({ workload: workload({ replicas: 3, placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) }), clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" })] });
    assert.equal(s.audit.length, 1, JSON.stringify(s.audit.map((a) => a.recordId)));
    assert.equal(s.audit[0]!.replicas, 1);
    assert.equal(s.audit[0]!.action, AuditAction.AUDIT_ACTION_EVICTED);
    assert.deepEqual(s.audit[0]!.reasons, ["Rescheduled"]);
  });

  it("a failover records the lost cluster's eviction as Failover and the replacement as moved from it", () => {
    const w = workload({ replicas: 2, placements: placed(["fr-1", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", ready: false, since: T0 - 120_000 }), cluster({ name: "fr-2" })] });
    const lost = s.audit.find((a) => a.cluster === "fr-1");
    const moved = s.audit.find((a) => a.cluster === "fr-2");
    assert.equal(lost?.action, AuditAction.AUDIT_ACTION_EVICTED);
    assert.deepEqual(lost?.reasons, ["Failover"]);
    assert.equal(moved?.action, AuditAction.AUDIT_ACTION_MOVED);
    assert.equal(moved?.fromCluster, "fr-1");
  });

  it("intent ids change with the observed resourceVersion, the decision's instant and with nothing else that is equal", () => {
    const base = { cluster: "fr-1", uid: "u", generation: 2, replicas: 3, basis: "100", decidedAt: 1_000 };
    assert.equal(intentIdOf(base), intentIdOf({ ...base }));
    // decidedAt: a second leader deciding "1" again from the same resourceVersion after another decided "0".
    for (const change of [{ basis: "101" }, { replicas: 4 }, { generation: 3 }, { cluster: "fr-2" }, { uid: "v" }, { decidedAt: 2_000 }]) {
      assert.notEqual(intentIdOf({ ...base, ...change }), intentIdOf(base), JSON.stringify(change));
    }
  });

  it("an intent with replicas carries the pod template and the cluster's facts; a zero intent carries no template", () => {
    const w = workload({ replicas: 2, certs: ["HDS"], placements: placed(["fr-1", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: [{ name: "HDS", validUntil: "2026-11-27" }] }), cluster({ name: "fr-2" })] });
    const zero = s.intents.find((i) => i.cluster === "fr-1");
    const placedIntent = s.intents.find((i) => i.cluster === "fr-2");
    assert.equal(zero?.replicas, 0);
    assert.equal(zero?.podTemplate, undefined);
    assert.ok(placedIntent?.podTemplate !== undefined);
    assert.equal(placedIntent?.residency?.country, "FR");
  });

  it("requirements sent to the guard are the intersection of every constraint, never looser than either", () => {
    const req = request({ constraints: [{ allowedCountries: ["FR", "DE"], allowedJurisdictions: ["EU"] }, { allowedCountries: ["FR", "IT"], forbidExtraterritorialExposure: true }, { requiredCertifications: ["HDS"] }] });
    assert.deepEqual(requirementsOf(req), { allowedCountries: ["FR"], allowedJurisdictions: ["EU"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true });
  });

  it("reports Unschedulable again when the reason changes, once per reason (positive control: same reason is silent)", () => {
    const plan: Plan = {
      workload: "default/w", request: placementRequestOf({ workload: workload() }), placements: [], scheduled: false, reason: "SpreadUnsatisfiable", message: "m",
      holders: [], failedOver: [], replaced: [], rejected: [], unselected: [], nonCompliant: new Map(), decided: true,
    };
    const unschedulable = (prev: { status: string; reason: string } | undefined) => buildEvents({ plan, changed: false, holders: [], previousScheduled: prev }).filter((e) => e.reason === "Unschedulable").length;
    assert.equal(unschedulable({ status: "False", reason: "NoCompliantCluster" }), 1);
    assert.equal(unschedulable({ status: "True", reason: "Scheduled" }), 1);
    assert.equal(unschedulable({ status: "False", reason: "SpreadUnsatisfiable" }), 0);
  });
});

describe("workload desired step: when to look again", () => {
  const certs = [{ name: "HDS" as const, validUntil: "2026-12-05" }, { name: "C5" as const, validUntil: "2026-12-01" }];
  it("requeues at the earliest expiry of a certification the workload requires, ignoring ones it does not", () => {
    const w = workload({ replicas: 1, certs: ["HDS", "C5"], placements: placed(["fr-1", "FR", 1]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs })] });
    assert.equal(s.requeueAfterMs, Date.parse("2026-12-02T00:00:00Z") - T0);
    const onlyHds = run({ workload: workload({ replicas: 1, certs: ["HDS"], placements: placed(["fr-1", "FR", 1]) }), clusters: [cluster({ name: "fr-1", certs })] });
    assert.equal(onlyHds.requeueAfterMs, Date.parse("2026-12-06T00:00:00Z") - T0);
    const none = run({ workload: workload({ replicas: 1, placements: placed(["fr-1", "FR", 1]) }), clusters: [cluster({ name: "fr-1", certs })] });
    assert.equal(none.requeueAfterMs, undefined);
  });

  it("does not requeue for a certification entry ending exactly now, only for the next one ahead", () => {
    // fr-1 was renewed: the old HDS entry ends now, the new one keeps it compliant.
    const w = workload({ replicas: 1, certs: ["HDS"], placements: placed(["fr-1", "FR", 1]) });
    const end = Date.parse("2026-12-06T00:00:00Z");
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: [{ name: "HDS", validUntil: "2026-12-05" }, { name: "HDS", validUntil: "2027-12-31" }] })], now: end });
    assert.deepEqual(s.placements.map((p) => p.cluster), ["fr-1"]);
    assert.equal(s.requeueAfterMs, Date.parse("2028-01-01T00:00:00Z") - end);
  });
});

describe("workload finalizer: zero intents", () => {
  it("publishes no second zero intent to a cluster whose first one was acknowledged (positive control: the other gets one)", () => {
    const w = workload({ placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) });
    const p = deletionPlan({ workload: w, clusters: byName([cluster({ name: "fr-1" }), cluster({ name: "fr-2" })]), reports: new Map(), acknowledged: new Set(["fr-1"]) });
    assert.deepEqual(p.publishZeroTo, ["fr-2"]);
  });
});
