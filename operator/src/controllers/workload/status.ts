/**
 * SovereignWorkload.status from a plan and the members' reports. Conditions follow
 * meta.SetStatusCondition (lastTransitionTime moves only with the status).
 */
import type { ClusterPlacement, CountryCode, RejectedCluster, SovereignWorkload, SovereignWorkloadStatus } from "../../api/index.ts";
import { MEMBER_LABELS, setCondition, WORKLOAD_CONDITIONS } from "../../api/index.ts";
import type { Placement } from "../../scheduler/index.ts";
import type { Plan } from "./plan.ts";
import type { MemberReport } from "./types.ts";

export const WorkloadReason = {
  AllReplicasReady: "AllReplicasReady",
  ReplicasNotReady: "ReplicasNotReady",
  NoReplicasRequested: "NoReplicasRequested",
  AllReplicasCompliant: "AllReplicasCompliant",
  /** A cluster that may no longer hold this workload still reports pods of it. */
  ReplicasOnNonCompliantCluster: "ReplicasOnNonCompliantCluster",
  /** Scheduled=False: spec.residencyPolicy names a ResidencyPolicy that does not exist. */
  PolicyNotFound: "PolicyNotFound",
} as const;


/**
 * The readiness part of a workload's status from the members' reports, over the
 * placements the status lists: each placement shows the ready pods its member reports
 * (more or fewer than its replicas: the truth, not the intent), readyReplicas counts
 * those on the clusters that hold replicas, and Ready is True only when every such
 * cluster reports at least its replicas ready and the workload is Scheduled. The one
 * function both the scheduling reconcile and the status aggregator use, so neither
 * rewrites what the other wrote.
 */
export function withReadiness({ status, reports, wanted, generation, now }: {
  status: SovereignWorkloadStatus;
  reports: ReadonlyMap<string, MemberReport>;
  /** spec.replicas. */
  wanted: number;
  /** metadata.generation, for the Ready condition's observedGeneration. */
  generation: number;
  now: Date;
}): SovereignWorkloadStatus {
  const ready = (cluster: string) => reports.get(cluster)?.readyReplicas ?? 0;
  const placements = (status.placements ?? []).map((p) => ({ ...p, readyReplicas: ready(p.cluster) }));
  const holding = placements.filter((p) => p.replicas > 0);
  const replicas = holding.reduce((n, p) => n + p.replicas, 0);
  const readyReplicas = holding.reduce((n, p) => n + p.readyReplicas, 0);
  const scheduled = status.conditions?.find((c) => c.type === WORKLOAD_CONDITIONS.Scheduled)?.status === "True";
  const allReady = replicas > 0 && holding.every((p) => p.readyReplicas >= p.replicas);
  const conditions = setCondition(status.conditions, {
    type: WORKLOAD_CONDITIONS.Ready,
    // Scaled to 0 and none left placed (a workload whose policy is missing keeps its replicas).
    ...(wanted === 0 && holding.length === 0
      ? { status: "True" as const, reason: WorkloadReason.NoReplicasRequested, message: "spec.replicas is 0" }
      : allReady && scheduled
        ? { status: "True" as const, reason: WorkloadReason.AllReplicasReady, message: `${readyReplicas}/${replicas} replicas ready` }
        : { status: "False" as const, reason: WorkloadReason.ReplicasNotReady, message: `${readyReplicas}/${replicas} replicas ready` }),
    observedGeneration: generation,
  }, now);
  return { ...status, readyReplicas, conditions: [...conditions], placements };
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
  const placements: ClusterPlacement[] = [
    ...plan.placements.map((p) => ({ cluster: p.cluster, country: p.country as CountryCode, replicas: p.replicas })),
    ...vacating.map((p) => ({ cluster: p.cluster, country: p.country as CountryCode, replicas: 0 })),
  ].sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
  const replicas = plan.placements.reduce((n, p) => n + p.replicas, 0);
  const countries = [...new Set(plan.placements.map((p) => p.country as CountryCode))].sort();

  const scheduled = setCondition(workload.status?.conditions, {
    type: WORKLOAD_CONDITIONS.Scheduled,
    status: plan.scheduled ? "True" : "False",
    reason: plan.reason,
    message: plan.message,
    observedGeneration: generation,
  }, now);
  const withReady = withReadiness({
    status: { conditions: [...scheduled], placements }, reports, wanted: workload.spec.replicas, generation, now,
  });
  // Level-based on what members report: pods of this workload on a cluster it may not use.
  const offending = [...reports].filter(([cluster, r]) => nonCompliant.has(cluster) && (r.readyReplicas > 0 || r.desiredReplicas > 0)).map(([c]) => c).sort();
  const conditions = setCondition(withReady.conditions, {
    type: WORKLOAD_CONDITIONS.ResidencyCompliant,
    ...(offending.length === 0
      ? { status: "True" as const, reason: WorkloadReason.AllReplicasCompliant, message: "every replica runs on a cluster that satisfies the residency constraints" }
      : { status: "False" as const, reason: WorkloadReason.ReplicasOnNonCompliantCluster, message: `being removed from ${offending.join(", ")}` }),
    observedGeneration: generation,
  }, now);

  return {
    observedGeneration: generation,
    replicas,
    readyReplicas: withReady.readyReplicas ?? 0,
    selector: `${MEMBER_LABELS.workloadUid}=${workload.metadata.uid ?? ""}`,
    countries,
    conditions: [...conditions],
    placements: withReady.placements ?? [],
    rejectedClusters,
  };
}
