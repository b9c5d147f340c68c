// Whatever workloads the control plane records, its series depend only on the clusters,
// countries, certifications, reasons and controllers involved: a federation of 10 clusters
// must not grow a series per workload, however many it runs.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ATTESTATION_DROP_REASONS, MetricsRegistry } from "../../../operator/src/metrics/index.ts";
import { Reason } from "../../../operator/src/scheduler/index.ts";
import { fcParams } from "../scheduler/properties/runs.ts";
import { parseExposition, seriesCount } from "./scrape.ts";

const CLUSTERS = [["ovh-par-1", "FR"], ["outscale-par-2", "FR"], ["ionos-fra-1", "DE"], ["stackit-ber-1", "DE"]] as const;
const CERTS = ["SecNumCloud", "HDS", "C5"] as const;
const CONTROLLERS = ["workload", "membercluster"] as const;
const REASONS = Object.values(Reason);

/** A workload's identity, from an alphabet no cluster, country or reason uses. */
const workload = fc.record({ namespace: fc.stringMatching(/^ns-[a-z0-9]{1,8}$/), name: fc.stringMatching(/^wl-[a-z0-9]{1,12}$/) });
const cluster = fc.constantFrom(...CLUSTERS);

/** One call to the registry; `w` is the workload it is about, which must leave no trace in the labels. */
type Op = { kind: string; w: { namespace: string; name: string }; apply: (r: MetricsRegistry, w: { namespace: string; name: string }) => void };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ w: workload, scheduled: fc.boolean(), reasons: fc.array(fc.oneof(fc.constantFrom(...REASONS), fc.string()), { maxLength: 6 }), s: fc.double({ min: 0, max: 5, noNaN: true }) })
    .map(({ w, scheduled, reasons, s }): Op => ({ kind: "decision", w, apply: (r, w) => {
      // A careless caller might put the workload into a reason; the registry must not export it.
      r.decision({ seconds: s, scheduled, rejectedReasons: [...reasons, `${w.namespace}/${w.name}`] });
    } })),
  fc.record({ w: workload, rows: fc.array(fc.tuple(cluster, fc.nat(10)), { maxLength: 8 }) })
    .map(({ w, rows }): Op => ({ kind: "placements", w, apply: (r) => r.placements({ rows: rows.map(([[c, country], replicas]) => ({ cluster: c, country, replicas })) }) })),
  fc.record({ w: workload, c: cluster, age: fc.nat(100), ready: fc.boolean() })
    .map(({ w, c, age, ready }): Op => ({ kind: "heartbeat", w, apply: (r) => r.memberHeartbeat({ cluster: c[0], ageSeconds: age, ready }) })),
  fc.record({ w: workload, c: cluster })
    .map(({ w, c }): Op => ({ kind: "failover", w, apply: (r) => r.failover({ fromCluster: c[0], country: c[1] }) })),
  fc.record({ w: workload, c: cluster, s: fc.double({ min: 0, max: 400, noNaN: true }) })
    .map(({ w, c, s }): Op => ({ kind: "intent", w, apply: (r) => { r.intentPublished({ cluster: c[0], seconds: s / 100 }); r.intentAcknowledged({ cluster: c[0], seconds: s }); } })),
  fc.record({ w: workload, c: cluster }).map(({ w, c }): Op => ({ kind: "guard", w, apply: (r) => r.guardRejection({ cluster: c[0] }) })),
  fc.record({ w: workload, c: cluster, n: fc.nat(20) }).map(({ w, c, n }): Op => ({ kind: "guard-drift", w, apply: (r) => r.guardDrift({ cluster: c[0], restored: n }) })),
  fc.record({ w: workload, unschedulable: fc.boolean() })
    .map(({ w, unschedulable }): Op => ({ kind: "unschedulable", w, apply: (r, w) => r.workloadUnschedulable({ ...w, unschedulable }) })),
  fc.record({ w: workload, rows: fc.array(fc.tuple(cluster, fc.constantFrom(...CERTS), fc.nat()), { maxLength: 6 }) })
    .map(({ w, rows }): Op => ({ kind: "certs", w, apply: (r) => r.certifications({ rows: rows.map(([[c], certification, t]) => ({ cluster: c, certification, validUntilSeconds: t })) }) })),
  fc.record({ w: workload, controller: fc.constantFrom(...CONTROLLERS), result: fc.constantFrom("success", "error", "requeue", "requeue_after" as const) })
    .map(({ w, controller, result }): Op => ({ kind: "reconcile", w, apply: (r) => { r.reconciled({ controller, result, seconds: 0.01 }); r.reconcileError({ controller, terminal: result === "error" }); } })),
);

async function run(ops: readonly Op[], workloads: (i: number) => { namespace: string; name: string }) {
  const r = new MetricsRegistry({ processMetrics: false });
  ops.forEach((o, i) => o.apply(r, workloads(i)));
  const text = await r.metrics();
  return { text, families: parseExposition(text) };
}

/** name{labels} of every series, buckets folded into their histogram. */
function seriesKeys(families: ReturnType<typeof parseExposition>): string[] {
  return [...families.values()].flatMap((f) => [...new Set(f.samples.map((s) => {
    const { le: _le, ...labels } = s.labels;
    return `${f.name}${JSON.stringify(Object.entries(labels).sort())}`;
  }))]).sort();
}

describe("metrics: label cardinality (property)", () => {
  it("exports the same series whatever the workloads, and never a workload's name", async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.array(workload, { minLength: 40, maxLength: 40 }), async (ops, others) => {
      const original = await run(ops, (i) => (ops[i] as Op).w);
      const renamed = await run(ops, (i) => others[i] as { namespace: string; name: string });
      assert.deepEqual(seriesKeys(renamed.families), seriesKeys(original.families));
      for (const o of ops) {
        assert.ok(!original.text.includes(o.w.name), `${o.w.name} leaked into the exposition`);
        assert.ok(!original.text.includes(o.w.namespace), `${o.w.namespace} leaked into the exposition`);
      }
    }), fcParams());
  });

  it("bounds each sovereign_* family by the clusters, countries, certifications and reasons alone", async () => {
    const n = CLUSTERS.length;
    const bounds: Record<string, number> = {
      sovereign_placements_replicas: n,
      sovereign_rejections_total: REASONS.length + 1,
      sovereign_scheduling_decision_duration_seconds: 1,
      sovereign_scheduling_decisions_total: 2,
      sovereign_workloads_unschedulable: 1,
      sovereign_scheduling_reconciles_total: 1,
      sovereign_scheduling_reconciles_to_ready: 1,
      sovereign_status_writes_total: 2,
      sovereign_status_reports_dropped_total: 5,
      sovereign_heartbeats_dropped_total: 2,
      sovereign_member_heartbeat_age_seconds: n,
      sovereign_member_ready: n,
      sovereign_certification_expiry_timestamp_seconds: n * CERTS.length,
      sovereign_failovers_total: n,
      sovereign_guard_rejections_total: n,
      sovereign_guard_drift_total: n,
      sovereign_intents_published_total: n,
      sovereign_intent_publish_duration_seconds: n,
      sovereign_intent_ack_duration_seconds: n,
      sovereign_attestations_appended_total: 1,
      sovereign_attestations_dropped_total: ATTESTATION_DROP_REASONS.length,
      controller_runtime_reconcile_total: CONTROLLERS.length * 4,
    };
    let maxSeen = 0;
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const { families } = await run(ops, (i) => (ops[i] as Op).w);
      for (const f of families.values()) {
        const bound = bounds[f.name];
        assert.ok(bound !== undefined || !f.name.startsWith("sovereign_"), `${f.name} has a bound in this test`);
        if (bound !== undefined) assert.ok(seriesCount(f) <= bound, `${f.name}: ${seriesCount(f)} series > ${bound}`);
      }
      maxSeen = Math.max(maxSeen, seriesCount(families.get("sovereign_placements_replicas") ?? { name: "", type: "", help: "", samples: [] }));
    }), fcParams());
    assert.equal(maxSeen, n, "positive control: some run reached the bound, so the bound is not vacuous");
  });
});
