import assert from "node:assert/strict";
import { parse } from "yaml";
import { auditRecordView, auditTable, runAudit } from "../../../../operator/src/cmd/kubectl-sovereign/audit.ts";
import { certificationView, clustersTable, clusterView, runClusters } from "../../../../operator/src/cmd/kubectl-sovereign/clusters.ts";
import { decisionView, explainTable } from "../../../../operator/src/cmd/kubectl-sovereign/explain.ts";
import { formatAge, renderDocument, renderTable } from "../../../../operator/src/cmd/kubectl-sovereign/render.ts";
import { runStatus, statusTable, workloadStatusView } from "../../../../operator/src/cmd/kubectl-sovereign/status.ts";
import { AuditAction } from "../../../../operator/src/gen/sovereign/v1/audit.ts";
import type { QueryResponse } from "../../../../operator/src/gen/sovereign/v1/audit.ts";
import { memberCluster, NOW, NOW_ISO, sovereignWorkload } from "../../../support/builders.ts";

const DAY = 86_400_000;

/** Splits kubectl-style output at the header's column starts. */
function columns(table: string): Record<string, string>[] {
  const [header, ...lines] = table.trimEnd().split("\n");
  const starts = [...header!.matchAll(/\S+(?: \S+)*/g)].map((m) => m.index);
  const names = starts.map((s, i) => header!.slice(s, starts[i + 1]).trim());
  return lines.map((l) => Object.fromEntries(names.map((n, i) => [n, l.slice(starts[i], starts[i + 1]).trim()])));
}

const placedWorkload = sovereignWorkload({
  name: "patient-records",
  namespace: "health",
  spec: { replicas: 4 },
  status: {
    observedGeneration: 2,
    readyReplicas: 3,
    countries: ["FR"],
    placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 3, readyReplicas: 3 }, { cluster: "ovh-rbx-hds", country: "FR", replicas: 1 }],
    conditions: [{ type: "Scheduled", status: "True", reason: "Scheduled", message: "4 replicas on 2 clusters", lastTransitionTime: NOW_ISO }],
    rejectedClusters: [{ cluster: "aws-fra-1", reasons: ["CountryNotAllowed", "ExtraterritorialExposure"] }],
  },
});
placedWorkload.metadata.generation = 2;

describe("kubectl sovereign output", () => {
  describe("tables", () => {
    it("pads every column but the last to its widest cell plus two spaces, and shows empty cells as -", () => {
      assert.equal(renderTable(["A", "LONG HEADER"], [["wide cell", ""], ["x", "y"]]), "A          LONG HEADER\nwide cell  -\nx          y\n");
    });

    const ages = [[0, "0s"], [59_999, "59s"], [60_000, "1m"], [192_000, "3m12s"], [3_600_000, "1h"], [18_180_000, "5h3m"], [DAY, "1d"], [2 * DAY + 5 * 3_600_000, "2d5h"], [-5000, "0s"]] as const;
    for (const [ms, text] of ages) it(`prints an age of ${ms} ms as ${text}`, () => assert.equal(formatAge(ms), text));

    it("prints the same object as JSON and as YAML", () => {
      const value = { a: [1, { b: "x: y" }], c: null, d: "2027-06-30" };
      assert.deepEqual(JSON.parse(renderDocument(value, "json")), value);
      assert.deepEqual(parse(renderDocument(value, "yaml")), value);
    });
  });

  describe("status", () => {
    it("shows placements with ready counts, conditions and rejected clusters with their reasons", () => {
      const text = statusTable(workloadStatusView(placedWorkload));
      assert.match(text, /^Workload: {4}health\/patient-records$/m);
      assert.match(text, /^Generation: {2}2 \(observed 2\)$/m);
      assert.match(text, /^Replicas: {4}4 desired, 3 ready$/m);
      const [placements, conditions, rejected] = text.split("\n\n").slice(1);
      assert.deepEqual(columns(placements!), [
        { CLUSTER: "ovh-par-1", COUNTRY: "FR", REPLICAS: "3", READY: "3" },
        { CLUSTER: "ovh-rbx-hds", COUNTRY: "FR", REPLICAS: "1", READY: "0" },
      ]);
      assert.deepEqual(columns(conditions!), [{ CONDITION: "Scheduled", STATUS: "True", REASON: "Scheduled", SINCE: NOW_ISO, MESSAGE: "4 replicas on 2 clusters" }]);
      assert.deepEqual(columns(rejected!), [{ "REJECTED CLUSTER": "aws-fra-1", REASONS: "CountryNotAllowed,ExtraterritorialExposure" }]);
    });

    it("says when the control plane has not reconciled the workload yet", () => {
      const text = statusTable(workloadStatusView(sovereignWorkload()));
      assert.match(text, /not yet observed by the control plane/);
      assert.match(text, /No placements\./);
      assert.match(text, /No conditions: the control plane has not reconciled this workload yet\./);
    });

    it("prints -o json and -o yaml as the same document, with every placement and rejection", async () => {
      const out: Record<string, string> = {};
      for (const output of ["json", "yaml"] as const) {
        await runStatus({ options: { name: "patient-records", namespace: "health", output, kube: { kubeconfig: undefined, context: undefined } }, namespace: "health", host: { getSovereignWorkload: async () => placedWorkload }, write: (t) => (out[output] = t) });
      }
      const doc = JSON.parse(out.json!);
      assert.deepEqual(parse(out.yaml!), doc);
      assert.deepEqual(doc.placements, [{ cluster: "ovh-par-1", country: "FR", replicas: 3, readyReplicas: 3 }, { cluster: "ovh-rbx-hds", country: "FR", replicas: 1, readyReplicas: 0 }]);
      assert.deepEqual(doc.rejected, [{ cluster: "aws-fra-1", reasons: ["CountryNotAllowed", "ExtraterritorialExposure"] }]);
      assert.deepEqual([doc.generation, doc.observedGeneration, doc.replicas, doc.readyReplicas], [2, 2, 4, 3]);
    });
  });

  describe("clusters", () => {
    const certCases = [
      { validUntil: "2026-11-28", state: "valid", daysLeft: 1, why: "a date is valid through its last day, a whole day at midnight" },
      { validUntil: "2026-11-27", state: "expired", daysLeft: null, why: "the day before now has ended" },
      { validUntil: "2026-12-28", state: "valid", daysLeft: 31, why: "whole days left, the last day counted" },
      { validUntil: "2026-11-28T00:00:00Z", state: "valid", daysLeft: 0, why: "a timestamp is valid up to and including its instant" },
      { validUntil: "2026-11-27T23:59:59Z", state: "expired", daysLeft: null, why: "a timestamp before now" },
      { validUntil: "2026-11-29T12:00:00Z", state: "valid", daysLeft: 1, why: "a part of a day left is not counted" },
      { validUntil: "2027-02-30", state: "unreadable", daysLeft: null, why: "a date that does not exist never counts" },
    ];
    for (const c of certCases) {
      it(`judges validUntil ${c.validUntil} at ${NOW_ISO} ${c.state}${c.daysLeft === null ? "" : ` with ${c.daysLeft} days left`}: ${c.why}`, () => {
        const v = certificationView({ name: "HDS", validUntil: c.validUntil }, NOW);
        assert.deepEqual([v.state, v.daysLeft], [c.state, c.daysLeft]);
      });
    }

    it("shows residency facts, certifications with days left, Ready with its reason and the heartbeat's age", () => {
      const fresh = memberCluster({ name: "ovh-par-1", status: { lastHeartbeatTime: new Date(NOW - 4000).toISOString(), conditions: [{ type: "Ready", status: "True", reason: "HeartbeatFresh", message: "", lastTransitionTime: NOW_ISO }] } });
      const exposed = memberCluster({
        name: "aws-fra-1",
        residency: { country: "DE", provider: "Amazon Web Services", extraterritorialExposure: ["US-CLOUD-Act", "US-FISA-702"], certifications: [{ name: "C5", validUntil: "2026-01-01" }] },
        status: { lastHeartbeatTime: new Date(NOW - 200_000).toISOString(), conditions: [{ type: "Ready", status: "False", reason: "HeartbeatMissed", message: "", lastTransitionTime: NOW_ISO }] },
      });
      const silent = memberCluster({ name: "stackit-eu01", residency: { extraterritorialExposure: undefined, certifications: [] }, status: null });
      const rows = columns(clustersTable([fresh, exposed, silent].map((mc) => clusterView(mc, NOW))));
      assert.deepEqual(rows, [
        { NAME: "ovh-par-1", COUNTRY: "FR", JURISDICTION: "EU", PROVIDER: "OVHcloud", EXPOSURE: "none", CERTIFICATIONS: "HDS:35d,SecNumCloud:215d", READY: "True", REASON: "HeartbeatFresh", HEARTBEAT: "4s ago" },
        { NAME: "aws-fra-1", COUNTRY: "DE", JURISDICTION: "EU", PROVIDER: "Amazon Web Services", EXPOSURE: "US-CLOUD-Act,US-FISA-702", CERTIFICATIONS: "C5:expired", READY: "False", REASON: "HeartbeatMissed", HEARTBEAT: "3m20s ago" },
        { NAME: "stackit-eu01", COUNTRY: "FR", JURISDICTION: "EU", PROVIDER: "OVHcloud", EXPOSURE: "undeclared", CERTIFICATIONS: "-", READY: "Unknown", REASON: "NoStatus", HEARTBEAT: "never" },
      ]);
    });

    it("prints clusters sorted by name in -o json, with certifications judged and the heartbeat age in seconds", async () => {
      let out = "";
      const clusters = [memberCluster({ name: "z-last", status: { lastHeartbeatTime: new Date(NOW - 7000).toISOString() } }), memberCluster({ name: "a-first" })];
      await runClusters({ options: { output: "json", kube: { kubeconfig: undefined, context: undefined } }, host: { listMemberClusters: async () => clusters }, now: new Date(NOW), write: (t) => (out = t) });
      const doc = JSON.parse(out);
      assert.deepEqual(doc.clusters.map((c: { name: string }) => c.name), ["a-first", "z-last"]);
      assert.deepEqual(doc.clusters[1].certifications[1], { name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30", daysLeft: 215, state: "valid" });
      assert.equal(doc.clusters[1].heartbeatAgeSeconds, 7);
      assert.equal(doc.clusters[0].heartbeatAgeSeconds, null);
    });

    it("says so when the host has no MemberClusters", () => {
      assert.equal(clustersTable([]), "No MemberClusters on the host.\n");
    });
  });

  describe("explain", () => {
    const decision = {
      workload: "health/patient-records", scheduled: true, reason: "Scheduled", message: "2/4 clusters are available: 2 CountryNotAllowed.",
      placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 4 }],
      unselected: [{ cluster: "ovh-rbx-hds", reason: "MaxClustersReached" }],
      rejected: [{ cluster: "aws-fra-1", reasons: ["CountryNotAllowed", "ExtraterritorialExposure"], messages: [] }, { cluster: "ionos-fra-1", reasons: ["CountryNotAllowed"], messages: ["country DE is not in [FR]"] }],
    };

    it("lists every cluster once, placed, not chosen or rejected with its reasons, then the summary", () => {
      const [table, summary] = explainTable(decisionView(decision)).split("\n\n");
      assert.deepEqual(columns(table!), [
        { CLUSTER: "ovh-par-1", RESULT: "placed", COUNTRY: "FR", REPLICAS: "4", WHY: "-" },
        { CLUSTER: "ovh-rbx-hds", RESULT: "(eligible, not chosen)", COUNTRY: "-", REPLICAS: "0", WHY: "MaxClustersReached" },
        { CLUSTER: "aws-fra-1", RESULT: "rejected", COUNTRY: "-", REPLICAS: "0", WHY: "CountryNotAllowed,ExtraterritorialExposure" },
        { CLUSTER: "ionos-fra-1", RESULT: "rejected", COUNTRY: "-", REPLICAS: "0", WHY: "country DE is not in [FR]" },
      ]);
      assert.equal(summary, "health/patient-records: Scheduled: 2/4 clusters are available: 2 CountryNotAllowed.\n");
    });

    it("prints simulate's JSON shape for the decision, with rejection messages only where the server gave some", () => {
      const v = decisionView(decision);
      assert.deepEqual(Object.keys(v), ["workload", "scheduled", "reason", "message", "placements", "rejected", "unselected"]);
      assert.deepEqual(v.rejected, [{ cluster: "aws-fra-1", reasons: ["CountryNotAllowed", "ExtraterritorialExposure"] }, { cluster: "ionos-fra-1", reasons: ["CountryNotAllowed"], messages: ["country DE is not in [FR]"] }]);
    });
  });

  describe("audit", () => {
    const record = (over: Partial<NonNullable<QueryResponse["record"]>>, seq: number): QueryResponse => ({
      streamSequence: seq,
      record: {
        recordId: `r${seq}`, action: AuditAction.AUDIT_ACTION_PLACED, workload: { namespace: "health", name: "patient-records", uid: "u" }, generation: 1,
        cluster: "ovh-par-1", country: "FR", replicas: 4, time: new Date(NOW), decidedBy: "control-plane/scheduler", reasons: [], fromCluster: "",
        facts: undefined, residencyPolicy: "health-fr-hds", requirements: undefined, ...over,
      },
    });

    it("shows time, action, cluster, country, replicas, origin, reasons, generation and who decided, oldest first", () => {
      const records = [
        record({}, 7),
        record({ action: AuditAction.AUDIT_ACTION_MOVED, cluster: "ovh-rbx-hds", fromCluster: "ovh-par-1", reasons: ["Failover"], generation: 2, time: new Date(NOW + 60_000) }, 9),
        record({ action: AuditAction.AUDIT_ACTION_EVICTED, replicas: 0, reasons: ["Tainted", "NotReady"], generation: 2 }, 10),
        record({ action: 42 as AuditAction }, 11),
      ].map(auditRecordView);
      assert.deepEqual(columns(auditTable("health/patient-records", records)), [
        { TIME: "2026-11-28T00:00:00.000Z", ACTION: "Placed", CLUSTER: "ovh-par-1", COUNTRY: "FR", REPLICAS: "4", FROM: "-", REASONS: "-", GENERATION: "1", "DECIDED BY": "control-plane/scheduler" },
        { TIME: "2026-11-28T00:01:00.000Z", ACTION: "Moved", CLUSTER: "ovh-rbx-hds", COUNTRY: "FR", REPLICAS: "4", FROM: "ovh-par-1", REASONS: "Failover", GENERATION: "2", "DECIDED BY": "control-plane/scheduler" },
        { TIME: "2026-11-28T00:00:00.000Z", ACTION: "Evicted", CLUSTER: "ovh-par-1", COUNTRY: "FR", REPLICAS: "0", FROM: "-", REASONS: "Tainted,NotReady", GENERATION: "2", "DECIDED BY": "control-plane/scheduler" },
        { TIME: "2026-11-28T00:00:00.000Z", ACTION: "Unknown(42)", CLUSTER: "ovh-par-1", COUNTRY: "FR", REPLICAS: "4", FROM: "-", REASONS: "-", GENERATION: "1", "DECIDED BY": "control-plane/scheduler" },
      ]);
    });

    it("asks the audit stream for this workload only, from --since, at most --limit records", async () => {
      const asked: unknown[] = [];
      let out = "";
      const since = new Date(NOW - DAY);
      await runAudit({
        options: { name: "patient-records", namespace: "health", output: "json", since, limit: 5, kube: { kubeconfig: undefined, context: undefined }, grpc: { address: "a:1", caFile: "", certFile: "", keyFile: "", serverName: undefined } },
        namespace: "health",
        client: { explain: async () => ({ decision: undefined }), close: () => {}, queryAudit: async function* (req) { asked.push(req); yield record({}, 3); } },
        write: (t) => (out = t),
      });
      assert.deepEqual(asked, [{ namespace: "health", name: "patient-records", cluster: "", country: "", range: { since, until: undefined }, limit: 5 }]);
      const doc = JSON.parse(out);
      assert.equal(doc.workload, "health/patient-records");
      assert.deepEqual(doc.records[0], { streamSequence: 3, recordId: "r3", time: NOW_ISO.replace("Z", ".000Z"), action: "Placed", cluster: "ovh-par-1", country: "FR", replicas: 4, fromCluster: "", reasons: [], generation: 1, decidedBy: "control-plane/scheduler", residencyPolicy: "health-fr-hds" });
    });
  });
});
