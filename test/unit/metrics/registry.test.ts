import assert from "node:assert/strict";
import { AgentMetricsRegistry, MetricsRegistry, UNKNOWN_REASON } from "../../../operator/src/metrics/index.ts";
import { bucketsOf, labelNamesOf, parseExposition, sampleOf, type Family } from "./scrape.ts";

async function scrape(r: { metrics(): Promise<string> }): Promise<Map<string, Family>> {
  return parseExposition(await r.metrics());
}

/** Samples of one family as "label=value,... → value", for comparing whole snapshots. */
function seriesOf(m: Map<string, Family>, name: string): Record<string, number> {
  const f = m.get(name);
  assert.ok(f, `${name} missing`);
  return Object.fromEntries(f.samples.map((s) => [Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(","), s.value]));
}

const registry = (now?: () => number) => new MetricsRegistry({ processMetrics: false, ...(now ? { now } : {}) });

describe("metrics: the control plane's sovereign_* metrics", () => {
  it("records a decision's latency, its result and every rejection reason", async () => {
    const r = registry();
    r.decision({ seconds: 0.0004, scheduled: true, rejectedReasons: ["CountryNotAllowed", "CountryNotAllowed", "MissingCertification"] });
    r.decision({ seconds: 0.003, scheduled: false, rejectedReasons: ["NotReady"] });
    const m = await scrape(r);
    assert.deepEqual(seriesOf(m, "sovereign_rejections_total"), { "reason=CountryNotAllowed": 2, "reason=MissingCertification": 1, "reason=NotReady": 1 });
    assert.deepEqual(seriesOf(m, "sovereign_scheduling_decisions_total"), { "result=scheduled": 1, "result=unschedulable": 1 });
    assert.equal(sampleOf(m, "sovereign_scheduling_decision_duration_seconds_count"), 2);
    assert.equal(sampleOf(m, "sovereign_scheduling_decision_duration_seconds_bucket", { le: "0.0005" }), 1);
    assert.equal(sampleOf(m, "sovereign_scheduling_decision_duration_seconds_bucket", { le: "0.005" }), 2);
    assert.equal(m.get("sovereign_scheduling_decision_duration_seconds")?.type, "histogram");
  });

  it("labels a reason the scheduler does not define as Unknown, so no caller can grow the series count", async () => {
    const r = registry();
    r.decision({ seconds: 0.001, scheduled: false, rejectedReasons: ["ns/workload-1234", "Tainted", "whatever"] });
    assert.deepEqual(seriesOf(await scrape(r), "sovereign_rejections_total"), { [`reason=${UNKNOWN_REASON}`]: 2, "reason=Tainted": 1 });
  });

  it("sums placement rows per cluster and country", async () => {
    const r = registry();
    r.placements({ rows: [
      { cluster: "ovh-par-1", country: "FR", replicas: 2 },
      { cluster: "ovh-par-1", country: "FR", replicas: 3 },
      { cluster: "ionos-fra-1", country: "DE", replicas: 1 },
    ] });
    const m = await scrape(r);
    assert.equal(m.get("sovereign_placements_replicas")?.type, "gauge");
    assert.deepEqual(seriesOf(m, "sovereign_placements_replicas"), { "cluster=ovh-par-1,country=FR": 5, "cluster=ionos-fra-1,country=DE": 1 });
  });

  it("shows 0, not its last value, for a cluster that lost all its replicas in the next snapshot", async () => {
    const r = registry();
    r.placements({ rows: [{ cluster: "ovh-par-1", country: "FR", replicas: 4 }, { cluster: "ionos-fra-1", country: "DE", replicas: 2 }] });
    r.placements({ rows: [{ cluster: "ovh-par-1", country: "FR", replicas: 6 }] });
    r.placements({ rows: [{ cluster: "ovh-par-1", country: "FR", replicas: 6 }] });
    assert.deepEqual(seriesOf(await scrape(r), "sovereign_placements_replicas"), { "cluster=ovh-par-1,country=FR": 6, "cluster=ionos-fra-1,country=DE": 0 });
  });

  it("computes heartbeat age at scrape time, so a member that went silent shows a growing age", async () => {
    let now = 1_000_000;
    const r = registry(() => now);
    r.memberHeartbeat({ cluster: "ovh-par-1", ageSeconds: 2, ready: true });
    assert.equal(sampleOf(await scrape(r), "sovereign_member_heartbeat_age_seconds", { cluster: "ovh-par-1" }), 2);
    now += 30_000;
    const m = await scrape(r);
    assert.equal(sampleOf(m, "sovereign_member_heartbeat_age_seconds", { cluster: "ovh-par-1" }), 32);
    assert.equal(sampleOf(m, "sovereign_member_ready", { cluster: "ovh-par-1" }), 1);
    r.memberHeartbeat({ cluster: "ovh-par-1", ageSeconds: 32, ready: false });
    assert.equal(sampleOf(await scrape(r), "sovereign_member_ready", { cluster: "ovh-par-1" }), 0);
  });

  it("exports no heartbeat age for a member that never sent one (not +Inf), and its readiness 0", async () => {
    const r = registry(() => 1_000_000);
    r.memberHeartbeat({ cluster: "aws-fra-1", ready: false });
    r.memberHeartbeat({ cluster: "ovh-rbx-hds", ageSeconds: Infinity, ready: false });
    r.memberHeartbeat({ cluster: "ovh-par-1", ageSeconds: 3, ready: true });
    const m = await scrape(r);
    assert.deepEqual(seriesOf(m, "sovereign_member_heartbeat_age_seconds"), { "cluster=ovh-par-1": 3 }, "positive control: a member with a heartbeat has an age");
    assert.equal(sampleOf(m, "sovereign_member_ready", { cluster: "aws-fra-1" }), 0);
    // A member whose heartbeat is forgotten (its MemberCluster recreated) loses its age again.
    r.memberHeartbeat({ cluster: "ovh-par-1", ready: false });
    assert.equal((await scrape(r)).get("sovereign_member_heartbeat_age_seconds")?.samples.length ?? 0, 0);
  });

  it("creates every known member's guard-rejection and failover counters at 0, and keeps their counts across snapshots", async () => {
    const r = registry();
    r.members({ rows: [{ cluster: "ovh-par-1", country: "FR" }, { cluster: "ionos-fra-1", country: "DE" }] });
    let m = await scrape(r);
    assert.deepEqual(seriesOf(m, "sovereign_guard_rejections_total"), { "cluster=ovh-par-1": 0, "cluster=ionos-fra-1": 0 });
    assert.deepEqual(seriesOf(m, "sovereign_failovers_total"), { "from_cluster=ovh-par-1,country=FR": 0, "from_cluster=ionos-fra-1,country=DE": 0 });
    r.guardRejection({ cluster: "ionos-fra-1" });
    r.failover({ fromCluster: "ovh-par-1", country: "FR" });
    r.members({ rows: [{ cluster: "ovh-par-1", country: "FR" }, { cluster: "ionos-fra-1", country: "DE" }] });
    m = await scrape(r);
    assert.deepEqual(seriesOf(m, "sovereign_guard_rejections_total"), { "cluster=ovh-par-1": 0, "cluster=ionos-fra-1": 1 });
    assert.deepEqual(seriesOf(m, "sovereign_failovers_total"), { "from_cluster=ovh-par-1,country=FR": 1, "from_cluster=ionos-fra-1,country=DE": 0 });
    r.memberRemoved({ cluster: "ionos-fra-1" });
    assert.doesNotMatch(await r.metrics(), /ionos-fra-1/, "a removed member's zeroed series go too");
  });

  it("counts failovers by the cluster left and its country, intents and guard rejections by cluster", async () => {
    const r = registry();
    r.failover({ fromCluster: "ovh-par-1", country: "FR" });
    r.failover({ fromCluster: "ovh-par-1", country: "FR" });
    r.intentPublished({ cluster: "ionos-fra-1", seconds: 0.004 });
    r.intentPublished({ cluster: "ionos-fra-1", seconds: 0.3 });
    r.intentAcknowledged({ cluster: "ionos-fra-1", seconds: 0.8 });
    r.guardRejection({ cluster: "aws-fra-1" });
    const m = await scrape(r);
    assert.deepEqual(seriesOf(m, "sovereign_failovers_total"), { "from_cluster=ovh-par-1,country=FR": 2 });
    assert.equal(sampleOf(m, "sovereign_intents_published_total", { cluster: "ionos-fra-1" }), 2);
    assert.equal(sampleOf(m, "sovereign_intent_publish_duration_seconds_count", { cluster: "ionos-fra-1" }), 2);
    assert.equal(sampleOf(m, "sovereign_intent_publish_duration_seconds_bucket", { cluster: "ionos-fra-1", le: "0.005" }), 1);
    assert.equal(sampleOf(m, "sovereign_intent_ack_duration_seconds_bucket", { cluster: "ionos-fra-1", le: "1" }), 1);
    assert.equal(sampleOf(m, "sovereign_intent_ack_duration_seconds_bucket", { cluster: "ionos-fra-1", le: "0.5" }), 0);
    assert.equal(sampleOf(m, "sovereign_guard_rejections_total", { cluster: "aws-fra-1" }), 1);
    assert.deepEqual(labelNamesOf(m.get("sovereign_intent_ack_duration_seconds") as Family), ["cluster"]);
    assert.deepEqual(bucketsOf(m.get("sovereign_intent_ack_duration_seconds") as Family).at(-1), 300);
  });

  it("exports the number of unschedulable workloads, not their names, and forgets one that became schedulable", async () => {
    const r = registry();
    assert.equal(sampleOf(await scrape(r), "sovereign_workloads_unschedulable"), 0, "0 from the start, for the alert");
    r.workloadUnschedulable({ namespace: "health", name: "records", unschedulable: true });
    r.workloadUnschedulable({ namespace: "health", name: "records", unschedulable: true });
    r.workloadUnschedulable({ namespace: "bank", name: "ledger", unschedulable: true });
    const m = await scrape(r);
    assert.equal(sampleOf(m, "sovereign_workloads_unschedulable"), 2);
    assert.deepEqual(labelNamesOf(m.get("sovereign_workloads_unschedulable") as Family), []);
    r.workloadUnschedulable({ namespace: "health", name: "records", unschedulable: false });
    assert.equal(sampleOf(await scrape(r), "sovereign_workloads_unschedulable"), 1);
  });

  it("replaces certification expiries with each snapshot, so a removed certification disappears", async () => {
    const r = registry();
    r.certifications({ rows: [
      { cluster: "ovh-par-1", certification: "SecNumCloud", validUntilSeconds: 1_830_000_000 },
      { cluster: "ovh-par-1", certification: "HDS", validUntilSeconds: 1_800_000_000 },
    ] });
    r.certifications({ rows: [{ cluster: "ovh-par-1", certification: "HDS", validUntilSeconds: 1_810_000_000 }] });
    assert.deepEqual(seriesOf(await scrape(r), "sovereign_certification_expiry_timestamp_seconds"), { "cluster=ovh-par-1,certification=HDS": 1_810_000_000 });
  });

  it("forgets every series of a removed member and keeps the others'", async () => {
    const r = registry();
    for (const [cluster, country] of [["ovh-par-1", "FR"], ["ionos-fra-1", "DE"]] as const) {
      r.placements({ rows: [{ cluster, country, replicas: 1 }] });
      r.memberHeartbeat({ cluster, ageSeconds: 1, ready: true });
      r.failover({ fromCluster: cluster, country });
      r.intentPublished({ cluster, seconds: 0.01 });
      r.intentAcknowledged({ cluster, seconds: 0.1 });
      r.guardRejection({ cluster });
    }
    r.certifications({ rows: [{ cluster: "ovh-par-1", certification: "HDS", validUntilSeconds: 1 }, { cluster: "ionos-fra-1", certification: "C5", validUntilSeconds: 2 }] });
    r.memberRemoved({ cluster: "ovh-par-1" });
    r.placements({ rows: [] });
    const text = await r.metrics();
    assert.doesNotMatch(text, /ovh-par-1/);
    const m = parseExposition(text);
    for (const name of ["sovereign_placements_replicas", "sovereign_member_heartbeat_age_seconds", "sovereign_member_ready", "sovereign_failovers_total",
      "sovereign_intents_published_total", "sovereign_guard_rejections_total", "sovereign_certification_expiry_timestamp_seconds"]) {
      assert.ok(m.get(name)?.samples.some((s) => s.labels.cluster === "ionos-fra-1" || s.labels.from_cluster === "ionos-fra-1"), `${name} keeps ionos-fra-1`);
    }
    assert.equal(sampleOf(m, "sovereign_intent_ack_duration_seconds_count", { cluster: "ionos-fra-1" }), 1);
  });

  it("exports no agent metric, so sums over jobs never mix the two", async () => {
    const names = [...(await scrape(registry())).keys()];
    assert.ok(names.includes("sovereign_workloads_unschedulable"), "positive control: a control-plane metric is there");
    assert.deepEqual(names.filter((n) => n.startsWith("sovereign_agent_")), []);
  });
});

describe("metrics: the member agent's sovereign_agent_* metrics", () => {
  const agent = () => new AgentMetricsRegistry({ processMetrics: false });

  it("creates every intent result at 0 and counts each handled intent by result", async () => {
    const a = agent();
    assert.deepEqual(seriesOf(await scrape(a), "sovereign_agent_intents_applied_total"), { "result=applied": 0, "result=deleted": 0, "result=error": 0, "result=invalid": 0 });
    a.intentApplied({ result: "applied", seconds: 0.05 });
    a.intentApplied({ result: "applied", seconds: 0.2 });
    a.intentApplied({ result: "deleted", seconds: 0.01 });
    const m = await scrape(a);
    assert.deepEqual(seriesOf(m, "sovereign_agent_intents_applied_total"), { "result=applied": 2, "result=deleted": 1, "result=error": 0, "result=invalid": 0 });
    assert.equal(sampleOf(m, "sovereign_agent_intent_apply_duration_seconds_count"), 3);
  });

  it("sets its Deployments by state, heartbeats and guard rejections", async () => {
    const a = agent();
    a.deployments({ ready: 3, progressing: 1 });
    a.heartbeatPublished();
    a.heartbeatPublished();
    a.guardRejection();
    const m = await scrape(a);
    assert.deepEqual(seriesOf(m, "sovereign_agent_deployments"), { "state=ready": 3, "state=progressing": 1 });
    assert.equal(sampleOf(m, "sovereign_agent_heartbeats_published_total"), 2);
    assert.equal(sampleOf(m, "sovereign_agent_guard_rejections_total"), 1);
  });

  it("exports controller-runtime's metrics and none of the control plane's sovereign_* metrics", async () => {
    const a = agent();
    a.maxWorkers({ controller: "deployments", count: 2 });
    const names = [...(await scrape(a)).keys()];
    assert.ok(names.includes("controller_runtime_max_concurrent_reconciles"));
    assert.ok(names.includes("sovereign_agent_deployments"), "positive control: an agent metric is there");
    assert.deepEqual(names.filter((n) => n.startsWith("sovereign_") && !n.startsWith("sovereign_agent_")), []);
  });
});
