import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { AuditAction } from "../../../../operator/src/gen/sovereign/v1/audit.ts";
import { cluster, on, placed, run, T0, workload } from "./world.ts";

const FR1 = { name: "fr-1", country: "FR" } as const;
const FR2 = { name: "fr-2", country: "FR" } as const;
const DE1 = { name: "de-1", country: "DE" } as const;
const down = (since: number) => ({ ready: false, since });

describe("workload desired step: first placement", () => {
  it("places every replica on compliant clusters only and says Scheduled", () => {
    const s = run({ workload: workload({ replicas: 3, countries: ["FR"] }), clusters: [cluster(FR1), cluster(FR2), cluster(DE1)] });
    assert.equal(Object.values(on(s)).reduce((a, b) => a + b, 0), 3);
    assert.ok(!("de-1" in on(s)));
    const scheduled = s.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "True");
    assert.equal(scheduled?.observedGeneration, 1);
    assert.deepEqual(s.status.countries, ["FR"]);
    assert.deepEqual(s.status.rejectedClusters, [{ cluster: "de-1", reasons: ["CountryNotAllowed"] }]);
    assert.deepEqual(s.intents.map((i) => [i.cluster, i.replicas]).sort(), Object.entries(on(s)).sort());
    assert.ok(s.audit.every((a) => a.action === AuditAction.AUDIT_ACTION_PLACED && a.country === "FR" && a.decidedBy === "control-plane/test"));
    assert.ok(s.events.some((e) => e.reason === "Scheduled"));
  });

  it("says NoCompliantCluster and places nothing when no cluster satisfies the residency", () => {
    const s = run({ workload: workload({ countries: ["IT"] }), clusters: [cluster(FR1), cluster(DE1)] });
    assert.deepEqual(s.placements, []);
    assert.deepEqual(s.intents, []);
    const scheduled = s.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "NoCompliantCluster");
    assert.ok(s.events.some((e) => e.reason === "Unschedulable"));
  });
});

describe("workload desired step: residency first", () => {
  const cases = [
    { what: "a required certification expired", bad: cluster({ ...FR1, certs: [{ name: "HDS", validUntil: "2026-11-27" }] }), w: workload({ certs: ["HDS"], placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) }), reason: "CertificationExpired" },
    { what: "the admin declared an exposure", bad: cluster({ ...FR1, exposed: true }), w: workload({ forbidExposure: true, placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) }), reason: "ExtraterritorialExposure" },
    { what: "an untolerated NoExecute taint", bad: cluster({ ...FR1, taints: [{ key: "evacuate", effect: "NoExecute" }] }), w: workload({ placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) }), reason: "Tainted" },
    { what: "the workload's countries tightened", bad: cluster(FR1), w: workload({ countries: ["DE"], placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) }), reason: "CountryNotAllowed" },
  ];
  for (const c of cases) {
    it(`removes a cluster's replicas at once when ${c.what}, even with no replacement`, () => {
      // fr-2 is the only other cluster, and it is unreachable past toleration for the
      // tightened-country case too: no replacement anywhere for the evicted replicas.
      const s = run({ workload: c.w, clusters: [c.bad, cluster({ ...FR2 })] });
      assert.equal(on(s)["fr-1"], undefined, JSON.stringify(on(s)));
      assert.ok(s.intents.some((i) => i.cluster === "fr-1" && i.replicas === 0));
      const eviction = s.audit.find((a) => a.cluster === "fr-1");
      assert.equal(eviction?.action, AuditAction.AUDIT_ACTION_EVICTED);
      assert.ok(eviction?.reasons.includes(c.reason), eviction?.reasons.join());
      assert.ok(s.events.some((e) => e.reason === "PlacementRejected" && e.message.includes("fr-1")));
      // Kept in status with 0 replicas until the zero intent is acknowledged.
      assert.deepEqual(s.status.placements?.find((p) => p.cluster === "fr-1")?.replicas, 0);
    });
  }

  it("a NoSchedule taint keeps new replicas out but does not evict running ones (positive control: NoExecute does)", () => {
    const w = workload({ placements: placed(["fr-1", "FR", 3]) });
    const kept = run({ workload: w, clusters: [cluster({ ...FR1, taints: [{ key: "m", effect: "NoSchedule" }] }), cluster(FR2)] });
    assert.deepEqual(on(kept), { "fr-1": 3 });
    const evicted = run({ workload: w, clusters: [cluster({ ...FR1, taints: [{ key: "m", effect: "NoExecute" }] }), cluster(FR2)] });
    assert.deepEqual(on(evicted), { "fr-2": 3 });
  });

  it("drops the vacated cluster from status once its zero intent is acknowledged", () => {
    const w = workload({ placements: [...placed(["fr-2", "FR", 3]), { cluster: "fr-1", country: "FR", replicas: 0 }] });
    const before = run({ workload: w, clusters: [cluster(FR1), cluster(FR2)] });
    assert.ok(before.status.placements?.some((p) => p.cluster === "fr-1"));
    assert.ok(before.intents.some((i) => i.cluster === "fr-1" && i.replicas === 0), "the zero intent is (re)published until acknowledged");
    const after = run({ workload: w, clusters: [cluster(FR1), cluster(FR2)], acknowledged: new Set(["fr-1"]) });
    assert.ok(!after.status.placements?.some((p) => p.cluster === "fr-1"));
  });

  it("evicts the replicas of a MemberCluster that was deleted", () => {
    const s = run({ workload: workload({ placements: placed(["gone", "FR", 2], ["fr-1", "FR", 1]) }), clusters: [cluster(FR1)] });
    assert.deepEqual(on(s), { "fr-1": 3 });
    assert.deepEqual(s.audit.find((a) => a.cluster === "gone")?.reasons, ["ClusterRemoved"]);
  });
});

describe("workload desired step: then availability", () => {
  it("keeps exactly the replicas of a NotReady cluster within its toleration, and requeues at its end", () => {
    const since = T0 - 10_000;
    const s = run({ workload: workload({ placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) }), clusters: [cluster({ ...FR1, ...down(since) }), cluster(FR2), cluster({ name: "fr-3" })] });
    assert.deepEqual(on(s), { "fr-1": 2, "fr-2": 1 });
    assert.equal(s.requeueAfterMs, since + 30_000 - T0);
    assert.deepEqual(s.audit, []);
  });

  it("re-places the replicas of a cluster NotReady past its toleration on an eligible cluster", () => {
    const s = run({ workload: workload({ placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) }), clusters: [cluster({ ...FR1, ...down(T0 - 31_000) }), cluster(FR2), cluster({ name: "fr-3" })] });
    assert.equal(on(s)["fr-1"], undefined);
    assert.equal(Object.values(on(s)).reduce((a, b) => a + b, 0), 3);
    assert.equal(on(s)["fr-2"], 1 + (on(s)["fr-2"]! - 1), "fr-2 keeps at least its replica");
    assert.ok(on(s)["fr-2"]! >= 1);
    assert.ok(s.events.some((e) => e.reason === "FailedOver"));
    const moved = s.audit.filter((a) => a.action === AuditAction.AUDIT_ACTION_MOVED);
    assert.ok(moved.length > 0 && moved.every((a) => a.fromCluster === "fr-1"));
  });

  it("keeps the replicas of a NotReady cluster forever when failover is disabled", () => {
    const s = run({ workload: workload({ failover: { enabled: false, tolerationSeconds: 30 }, placements: placed(["fr-1", "FR", 3]) }), clusters: [cluster({ ...FR1, ...down(T0 - 86_400_000) }), cluster(FR2)] });
    assert.deepEqual(on(s), { "fr-1": 3 });
  });

  it("with crossBorderFailover false re-places lost replicas in the same country only", () => {
    const w = workload({ countries: ["FR", "DE"], crossBorder: false, placements: placed(["de-1", "DE", 2], ["fr-1", "FR", 1]) });
    const withDe = run({ workload: w, clusters: [cluster({ ...DE1, ...down(T0 - 60_000) }), cluster({ name: "de-2", country: "DE" }), cluster(FR1)] });
    assert.deepEqual(on(withDe), { "de-2": 2, "fr-1": 1 });
    // Positive control: with cross-border failover allowed, France may take them.
    const open = workload({ countries: ["FR", "DE"], crossBorder: true, placements: placed(["de-1", "DE", 2], ["fr-1", "FR", 1]) });
    assert.deepEqual(on(run({ workload: open, clusters: [cluster({ ...DE1, ...down(T0 - 60_000) }), cluster(FR1)] })), { "fr-1": 3 });
  });

  it("leaves lost replicas where they are and says NoCompliantCluster when no cluster of their country can take them (karmada#7455)", () => {
    const w = workload({ countries: ["FR", "DE"], crossBorder: false, placements: placed(["de-1", "DE", 2], ["fr-1", "FR", 1]) });
    const s = run({ workload: w, clusters: [cluster({ ...DE1, ...down(T0 - 60_000) }), cluster(FR1)] });
    assert.deepEqual(on(s), { "de-1": 2, "fr-1": 1 });
    const scheduled = s.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "NoCompliantCluster");
    assert.ok(s.intents.every((i) => i.replicas > 0), "nothing is deleted for lack of a replacement");
  });

  it("a returning cluster gets no replicas back (its surplus goes): the status keeps the replacement", () => {
    const w = workload({ placements: [...placed(["fr-2", "FR", 3]), { cluster: "fr-1", country: "FR", replicas: 0 }] });
    const s = run({ workload: w, clusters: [cluster(FR1), cluster(FR2)], acknowledged: new Set() });
    assert.deepEqual(on(s), { "fr-2": 3 });
    assert.ok(s.intents.some((i) => i.cluster === "fr-1" && i.replicas === 0));
  });

  it("an unschedulable decision never removes replicas from compliant clusters", () => {
    // spread.minCountries raised to 3 where only two countries exist.
    const w = workload({ countries: ["FR", "DE"], minCountries: 3, replicas: 3, placements: placed(["de-1", "DE", 1], ["fr-1", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster(DE1), cluster(FR1)] });
    assert.deepEqual(on(s), { "de-1": 1, "fr-1": 2 });
    const scheduled = s.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "SpreadUnsatisfiable");
    assert.ok(s.intents.every((i) => i.replicas > 0));
  });

  it("an evicted replica goes even when spread then fails, and the compliant ones stay", () => {
    const w = workload({ countries: ["FR", "DE"], minCountries: 2, forbidExposure: true, replicas: 3, placements: placed(["de-1", "DE", 1], ["fr-1", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ ...DE1, exposed: true }), cluster(FR1)] });
    assert.equal(on(s)["de-1"], undefined);
    assert.ok(on(s)["fr-1"]! >= 2);
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "False");
  });

  it("does not reshuffle a workload whose clusters are still eligible when a better cluster joins", () => {
    const w = workload({ replicas: 3, placements: placed(["fr-1", "FR", 3]) });
    const s = run({ workload: w, clusters: [cluster({ ...FR1, pods: 4 }), cluster({ name: "fr-9", pods: 1000 })] });
    assert.deepEqual(on(s), { "fr-1": 3 });
    assert.deepEqual(s.audit, []);
    assert.ok(!s.events.some((e) => e.reason === "Scheduled"));
  });

  it("requeues when a required certification it relies on expires", () => {
    const s = run({ workload: workload({ certs: ["HDS"] }), clusters: [cluster({ ...FR1, certs: [{ name: "HDS", validUntil: "2026-11-30" }] })] });
    assert.equal(s.requeueAfterMs, Date.parse("2026-12-01T00:00:00Z") - T0);
  });
});

describe("workload desired step: status and records", () => {
  it("reports readyReplicas from member status and Ready only when all are ready", () => {
    const w = workload({ replicas: 3, placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) });
    const reports = new Map([["fr-1", { desiredReplicas: 2, readyReplicas: 2, observedGeneration: 1, message: "" }], ["fr-2", { desiredReplicas: 1, readyReplicas: 0, observedGeneration: 1, message: "" }]]);
    const s = run({ workload: w, clusters: [cluster(FR1), cluster(FR2)], reports });
    assert.equal(s.status.readyReplicas, 2);
    assert.equal(s.status.conditions?.find((c) => c.type === "Ready")?.status, "False");
    const all = run({ workload: w, clusters: [cluster(FR1), cluster(FR2)], reports: new Map([...reports, ["fr-2", { desiredReplicas: 1, readyReplicas: 1, observedGeneration: 1, message: "" }]]) });
    assert.equal(all.status.conditions?.find((c) => c.type === "Ready")?.status, "True");
  });

  it("says ResidencyCompliant False while a non-compliant cluster still reports pods of the workload", () => {
    const w = workload({ forbidExposure: true, placements: [...placed(["fr-2", "FR", 3]), { cluster: "fr-1", country: "FR", replicas: 0 }] });
    const reports = new Map([["fr-1", { desiredReplicas: 3, readyReplicas: 3, observedGeneration: 1, message: "" }]]);
    const s = run({ workload: w, clusters: [cluster({ ...FR1, exposed: true }), cluster(FR2)], reports });
    assert.equal(s.status.conditions?.find((c) => c.type === "ResidencyCompliant")?.status, "False");
    const clean = run({ workload: w, clusters: [cluster({ ...FR1, exposed: true }), cluster(FR2)] });
    assert.equal(clean.status.conditions?.find((c) => c.type === "ResidencyCompliant")?.status, "True");
  });

  it("derives audit record ids from the change and the resourceVersion, so a retry is the same record", () => {
    const w = workload({ placements: placed(["fr-1", "FR", 3]) });
    const clusters = [cluster({ ...FR1, exposed: true }), cluster(FR2)];
    const a = run({ workload: { ...w, spec: { ...w.spec, residency: { forbidExtraterritorialExposure: true } } }, clusters });
    const b = run({ workload: { ...w, spec: { ...w.spec, residency: { forbidExtraterritorialExposure: true } } }, clusters, now: T0 + 5000 });
    assert.deepEqual(a.audit.map((r) => r.recordId), b.audit.map((r) => r.recordId));
    assert.ok(a.audit.some((r) => r.recordId.includes("fr-1:3->0:rv100")));
  });
});

describe("workload desired step: the ResidencyPolicy it names does not exist", () => {
  const policy = (name: string) => ({ apiVersion: "sovereignty.eu/v1alpha1" as const, kind: "ResidencyPolicy" as const, metadata: { name }, spec: { allowedCountries: ["FR" as const] } });
  const scheduledOf = (s: { status: { conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }[] } }) => s.status.conditions?.find((c) => c.type === "Scheduled");

  it("never placed: Scheduled=False PolicyNotFound naming spec.residencyPolicy, nothing placed, one Warning Event", () => {
    const s = run({ workload: workload({ policy: "x" }), clusters: [cluster(FR1), cluster(DE1)] });
    assert.deepEqual(s.placements, []);
    assert.deepEqual(s.intents, []);
    assert.deepEqual(s.audit, []);
    const scheduled = scheduledOf(s);
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "PolicyNotFound");
    assert.match(scheduled?.message ?? "", /spec\.residencyPolicy: ResidencyPolicy "x" does not exist/);
    assert.deepEqual(s.events.map((e) => [e.type, e.reason]), [["Warning", "Unschedulable"]]);
    assert.match(s.events[0]!.message, /^PolicyNotFound: spec\.residencyPolicy/);
    assert.equal(s.status.conditions?.find((c) => c.type === "Ready")?.status, "False");
    // Written once: the next pass over that status says nothing new.
    const again = run({ workload: { ...workload({ policy: "x" }), status: s.status }, clusters: [cluster(FR1), cluster(DE1)], now: T0 + 5_000 });
    assert.deepEqual(again.events, []);
    assert.equal(scheduledOf(again)?.lastTransitionTime, scheduledOf(s)?.lastTransitionTime);
  });

  it("placed, then its policy deleted: every replica stays where it is, nothing is published or recorded", () => {
    const w = workload({ policy: "health", placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) });
    const reports = new Map([["fr-1", { desiredReplicas: 2, readyReplicas: 2, observedGeneration: 1, message: "" }], ["fr-2", { desiredReplicas: 1, readyReplicas: 1, observedGeneration: 1, message: "" }]]);
    const s = run({ workload: w, clusters: [cluster(FR1), cluster(FR2), cluster(DE1)], reports });
    assert.deepEqual(on(s), { "fr-1": 2, "fr-2": 1 });
    assert.deepEqual(s.status.placements?.map((p) => [p.cluster, p.replicas, p.readyReplicas]), [["fr-1", 2, 2], ["fr-2", 1, 1]]);
    assert.deepEqual(s.intents, []);
    assert.deepEqual(s.audit, []);
    assert.equal(scheduledOf(s)?.reason, "PolicyNotFound");
    // Ready needs Scheduled: the replicas run, but the workload is not in a state anyone decided.
    assert.equal(s.status.readyReplicas, 3);
    assert.equal(s.status.conditions?.find((c) => c.type === "Ready")?.status, "False");
  });

  it("a policy of another name counts as missing; the named one given, it is scheduled again (positive control)", () => {
    const w = workload({ policy: "health", placements: placed(["fr-1", "FR", 3]) });
    assert.equal(scheduledOf(run({ workload: w, clusters: [cluster(FR1)], policy: policy("finance") }))?.reason, "PolicyNotFound");
    const back = run({ workload: { ...w, status: run({ workload: w, clusters: [cluster(FR1)] }).status }, clusters: [cluster(FR1)], policy: policy("health") });
    assert.equal(scheduledOf(back)?.status, "True");
    assert.deepEqual(on(back), { "fr-1": 3 });
    assert.ok(back.intents.some((i) => i.cluster === "fr-1" && i.replicas === 3));
  });

  it("placed under the policy, a cluster being vacated, then the spec changed and the policy deleted: status at the new generation, the vacated cluster still listed with 0, the rest of the status kept", () => {
    const clusters = [cluster(FR1), cluster(FR2)];
    const vacating = { cluster: "fr-2", country: "FR" as const, replicas: 0 };
    const decided = run({ workload: workload({ policy: "health", placements: [...placed(["fr-1", "FR", 3]), vacating] }), clusters, policy: policy("health") });
    assert.deepEqual(decided.status.placements?.map((p) => [p.cluster, p.replicas]), [["fr-1", 3], ["fr-2", 0]], "the positive control: fr-2's zero intent is not acknowledged");
    const s = run({ workload: { ...workload({ policy: "health", generation: 2 }), status: decided.status }, clusters, now: T0 + 60_000 });
    assert.deepEqual(on(s), { "fr-1": 3 }, "placements are the clusters with replicas only");
    assert.deepEqual(s.status.placements?.map((p) => [p.cluster, p.replicas]), [["fr-1", 3], ["fr-2", 0]], "a Deployment that may still run stays listed");
    assert.equal(s.status.observedGeneration, 2);
    assert.equal(scheduledOf(s)?.observedGeneration, 2);
    assert.equal(scheduledOf(s)?.lastTransitionTime, new Date(T0 + 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"));
    assert.equal(s.status.selector, decided.status.selector);
    assert.equal(s.status.replicas, 3);
    // The vacated cluster still gets its zero intent (no decision needed), and nothing else does.
    assert.deepEqual(s.intents.map((i) => [i.cluster, i.replicas, i.podTemplate]), [["fr-2", 0, undefined]]);
    // Once JetStream acknowledged it, the status lets it go.
    const acked = run({ workload: { ...workload({ policy: "health", generation: 2 }), status: s.status }, clusters, now: T0 + 61_000, acknowledged: new Set(["fr-2"]) });
    assert.deepEqual(acked.status.placements?.map((p) => [p.cluster, p.replicas]), [["fr-1", 3]]);
    assert.deepEqual(acked.intents, []);
  });

  it("while the policy is missing, the last decision's rejected clusters are not shown, and a scale to 0 does not say Ready while replicas still run", () => {
    const placedUnder = run({ workload: workload({ policy: "health" }), clusters: [cluster(FR1), cluster(DE1)], policy: policy("health") });
    assert.deepEqual(placedUnder.status.rejectedClusters, [{ cluster: "de-1", reasons: ["CountryNotAllowed"] }], "the positive control");
    const reports = new Map([["fr-1", { desiredReplicas: 3, readyReplicas: 3, observedGeneration: 1, message: "" }]]);
    const missing = run({ workload: { ...workload({ policy: "health", replicas: 0, generation: 2 }), status: placedUnder.status }, clusters: [cluster(FR1), cluster(DE1)], reports, now: T0 + 5_000 });
    assert.deepEqual(missing.status.rejectedClusters, []);
    assert.deepEqual(on(missing), { "fr-1": 3 });
    const ready = missing.status.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "False", JSON.stringify(ready));
  });

  it("already Scheduled=False for another reason: the Event still says PolicyNotFound once", () => {
    const unplaced = run({ workload: workload({ policy: "health" }), clusters: [cluster(DE1)], policy: policy("health") });
    assert.equal(scheduledOf(unplaced)?.reason, "NoCompliantCluster", "the positive control");
    const s = run({ workload: { ...workload({ policy: "health" }), status: unplaced.status }, clusters: [cluster(DE1)], now: T0 + 5_000 });
    assert.deepEqual(s.events.map((e) => [e.type, e.reason, e.message.split(":")[0]]), [["Warning", "Unschedulable", "PolicyNotFound"]]);
  });
});
