/**
 * SovereignWorkload.status from a plan and the members' reports. Conditions follow
 * meta.SetStatusCondition (lastTransitionTime moves only with the status).
 */
import type { ClusterPlacement, CountryCode, RejectedCluster, RejectionReason, SovereignWorkload, SovereignWorkloadStatus } from "../../api/index.ts";
import { MEMBER_LABELS, REJECTION_REASONS, setCondition, WORKLOAD_CONDITIONS } from "../../api/index.ts";
import type { Placement, Rejection } from "../../scheduler/index.ts";
import type { Plan } from "./plan.ts";
import type { MemberReport } from "./types.ts";

export const WorkloadReason = {
  AllReplicasReady: "AllReplicasReady",
  ReplicasNotReady: "ReplicasNotReady",
  NoReplicasRequested: "NoReplicasRequested",
  AllReplicasCompliant: "AllReplicasCompliant",
  /** A cluster that may no longer hold this workload still reports pods of it. */
  ReplicasOnNonCompliantCluster: "ReplicasOnNonCompliantCluster",
} as const;

const apiOrder = (reasons: readonly string[]): RejectionReason[] =>
  REJECTION_REASONS.filter((r) => reasons.includes(r));

export function rejectedClustersOf({ placed, probe, decision }: {
  placed: ReadonlySet<string>;
  /** placementRejections(): residency, readiness, taints. */
  probe: ReadonlyMap<string, readonly string[]>;
  /** The rejections of the decision taken this time, if any (adds capacity and spread). */
  decision: readonly Rejection[] | undefined;
}): RejectedCluster[] {
  const reasons = new Map<string, Set<string>>();
  for (const [cluster, rs] of probe) reasons.set(cluster, new Set(rs));
  for (const r of decision ?? []) {
    const set = reasons.get(r.cluster) ?? new Set<string>();
    for (const x of r.reasons) set.add(x);
    reasons.set(r.cluster, set);
  }
  return [...reasons].filter(([cluster]) => !placed.has(cluster))
    .map(([cluster, rs]) => ({ cluster, reasons: apiOrder([...rs]) }))
    .filter((r) => r.reasons.length > 0)
    .sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
}

export function buildStatus({ workload, plan, vacating, reports, rejectedClusters, nonCompliant, now }: {
  workload: SovereignWorkload;
  plan: Plan;
  /** Clusters being emptied whose zero intent is not acknowledged yet: listed with 0 replicas. */
  vacating: readonly Placement[];
  reports: ReadonlyMap<string, MemberReport>;
  rejectedClusters: RejectedCluster[];
  /** Clusters that may not hold this workload (residency), or no longer exist. */
  nonCompliant: ReadonlySet<string>;
  now: Date;
}): SovereignWorkloadStatus {
  const generation = workload.metadata.generation ?? 0;
  const ready = (cluster: string) => reports.get(cluster)?.readyReplicas ?? 0;
  const placements: ClusterPlacement[] = [
    ...plan.placements.map((p) => ({ cluster: p.cluster, country: p.country as CountryCode, replicas: p.replicas, readyReplicas: Math.min(ready(p.cluster), p.replicas) })),
    ...vacating.map((p) => ({ cluster: p.cluster, country: p.country as CountryCode, replicas: 0, readyReplicas: ready(p.cluster) })),
  ].sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
  const replicas = plan.placements.reduce((n, p) => n + p.replicas, 0);
  const readyReplicas = placements.reduce((n, p) => n + Math.min(p.readyReplicas ?? 0, p.replicas), 0);
  const countries = [...new Set(plan.placements.map((p) => p.country as CountryCode))].sort();

  const prev = workload.status?.conditions;
  let conditions = setCondition(prev, {
    type: WORKLOAD_CONDITIONS.Scheduled,
    status: plan.scheduled ? "True" : "False",
    reason: plan.reason,
    message: plan.message,
    observedGeneration: generation,
  }, now);
  const wanted = workload.spec.replicas;
  conditions = setCondition(conditions, {
    type: WORKLOAD_CONDITIONS.Ready,
    ...(wanted === 0
      ? { status: "True" as const, reason: WorkloadReason.NoReplicasRequested, message: "spec.replicas is 0" }
      : readyReplicas >= replicas && replicas > 0 && plan.scheduled
        ? { status: "True" as const, reason: WorkloadReason.AllReplicasReady, message: `${readyReplicas}/${replicas} replicas ready` }
        : { status: "False" as const, reason: WorkloadReason.ReplicasNotReady, message: `${readyReplicas}/${replicas} replicas ready` }),
    observedGeneration: generation,
  }, now);
  // Level-based on what members report: pods of this workload on a cluster it may not use.
  const offending = [...reports].filter(([cluster, r]) => nonCompliant.has(cluster) && (r.readyReplicas > 0 || r.desiredReplicas > 0)).map(([c]) => c).sort();
  conditions = setCondition(conditions, {
    type: WORKLOAD_CONDITIONS.ResidencyCompliant,
    ...(offending.length === 0
      ? { status: "True" as const, reason: WorkloadReason.AllReplicasCompliant, message: "every replica runs on a cluster that satisfies the residency constraints" }
      : { status: "False" as const, reason: WorkloadReason.ReplicasOnNonCompliantCluster, message: `being removed from ${offending.join(", ")}` }),
    observedGeneration: generation,
  }, now);

  return {
    observedGeneration: generation,
    replicas,
    readyReplicas,
    selector: `${MEMBER_LABELS.workloadUid}=${workload.metadata.uid ?? ""}`,
    countries,
    conditions: [...conditions],
    placements,
    rejectedClusters,
  };
}
