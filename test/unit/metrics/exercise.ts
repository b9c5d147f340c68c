// Every recording method called at least once, so an exposition holds a series of every
// metric the operator defines (for promtool and the definitions checks).
import { AgentMetricsRegistry, MetricsRegistry } from "../../../operator/src/metrics/index.ts";

export function exercisedControlPlane(options: { processMetrics: boolean }): MetricsRegistry {
  const r = new MetricsRegistry(options);
  r.maxWorkers({ controller: "workload", count: 4 });
  r.activeWorkers({ controller: "workload", delta: 1 });
  r.reconciled({ controller: "workload", result: "success", seconds: 0.02 });
  r.reconcileError({ controller: "workload", terminal: true });
  const q = r.forQueue({ name: "workload", controller: "workload" });
  q.added(); q.depth(1); q.queued(0.001); q.worked(0.01); q.retried(); q.unfinished({ oldestSeconds: 1, totalSeconds: 1 });
  r.decision({ seconds: 0.001, scheduled: false, rejectedReasons: ["CountryNotAllowed"] });
  r.placements({ rows: [{ cluster: "ovh-par-1", country: "FR", replicas: 2 }] });
  r.memberHeartbeat({ cluster: "ovh-par-1", ageSeconds: 1, ready: true });
  r.certifications({ rows: [{ cluster: "ovh-par-1", certification: "HDS", validUntilSeconds: 1_800_000_000 }] });
  r.failover({ fromCluster: "ovh-par-1", country: "FR" });
  r.intentPublished({ cluster: "ovh-par-1", seconds: 0.002 });
  r.intentAcknowledged({ cluster: "ovh-par-1", seconds: 0.2 });
  r.guardRejection({ cluster: "ovh-par-1" });
  r.guardDrift({ cluster: "ovh-par-1", restored: 1 });
  r.statusReportDropped({ reason: "UnknownWorkload" });
  r.heartbeatDropped({ reason: "Malformed" });
  r.workloadUnschedulable({ namespace: "health", name: "records", unschedulable: true });
  r.schedulingReconciled();
  r.reconcilesToReady({ count: 1 });
  r.statusWritten({ result: "written" });
  return r;
}

export function exercisedAgent(options: { processMetrics: boolean }): AgentMetricsRegistry {
  const a = new AgentMetricsRegistry(options);
  a.maxWorkers({ controller: "deployments", count: 1 });
  a.forQueue({ name: "deployments", controller: "deployments" }).added();
  a.intentApplied({ result: "applied", seconds: 0.05 });
  a.deployments({ ready: 1, progressing: 0 });
  a.heartbeatPublished();
  a.guardRejection();
  return a;
}
