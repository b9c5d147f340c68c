/**
 * Which workloads to reconcile when something else changes, like controller-runtime's
 * EnqueueRequestsFromMapFunc: the reconcile itself stays level-based on the key.
 */
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import { workloadKey } from "../../scheduler/index.ts";

/**
 * Whether a MemberCluster's change can change a decision: its spec, labels, readiness,
 * room or valid certifications. A heartbeat rewrites lastHeartbeatTime and the Ready
 * condition's message every few seconds; mapping those to every workload placed on the
 * cluster made the queue reconcile each workload about once a second per member for
 * nothing (measured: at 200 workloads the queue wait reached seconds).
 */
export function clusterChangeMatters(previous: MemberCluster | undefined, next: MemberCluster): boolean {
  if (!previous) return true;
  const ready = (c: MemberCluster) => c.status?.conditions?.find((x) => x.type === "Ready")?.status;
  const facts = (c: MemberCluster) => JSON.stringify([
    c.spec, c.metadata.labels ?? {}, c.metadata.deletionTimestamp ?? null, ready(c) ?? null,
    c.status?.allocatable ?? null, c.status?.validCertifications ?? null,
  ]);
  return facts(previous) !== facts(next);
}

/** A MemberCluster changed: every workload placed there, and every one not fully placed (it may now fit). */
export function workloadsForCluster(cluster: MemberCluster, workloads: readonly SovereignWorkload[]): string[] {
  const name = cluster.metadata.name;
  return workloads.filter((w) => {
    const placed = w.status?.placements?.some((p) => p.cluster === name) ?? false;
    const scheduled = w.status?.conditions?.find((c) => c.type === "Scheduled")?.status === "True";
    return placed || !scheduled || w.status?.rejectedClusters?.some((r) => r.cluster === name);
  }).map(workloadKey);
}

export function workloadsForPolicy(policy: ResidencyPolicy, workloads: readonly SovereignWorkload[]): string[] {
  return workloads.filter((w) => w.spec.residencyPolicy === policy.metadata.name).map(workloadKey);
}

/** A member reported a workload's status: its uid maps to one key. */
export function workloadForUid(uid: string, workloads: readonly SovereignWorkload[]): string | undefined {
  const w = workloads.find((x) => x.metadata.uid === uid);
  return w && workloadKey(w);
}
