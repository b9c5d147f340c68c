/**
 * What deleting a workload takes, decided purely: a zero intent to every cluster the
 * status lists, and when the finalizer may go. A Ready cluster must have reported the
 * removal; a NotReady one only needs its zero intent acknowledged by JetStream (it is
 * durable, and the agent applies it when it comes back).
 */
import type { MemberCluster, SovereignWorkload } from "../../api/index.ts";
import { isReady } from "./compliance.ts";
import type { MemberReport } from "./types.ts";

export const MEMBER_CLEANUP_FINALIZER = "sovereignty.eu/member-cleanup";

export function hasFinalizer(workload: SovereignWorkload): boolean {
  return workload.metadata.finalizers?.includes(MEMBER_CLEANUP_FINALIZER) ?? false;
}

export function deletionPlan({ workload, clusters, reports, acknowledged }: {
  workload: SovereignWorkload;
  clusters: ReadonlyMap<string, MemberCluster>;
  reports: ReadonlyMap<string, MemberReport>;
  /** Clusters whose zero intent for this workload JetStream acknowledged. */
  acknowledged: ReadonlySet<string>;
}): { publishZeroTo: string[]; waitingFor: string[]; mayRemoveFinalizer: boolean } {
  const listed = [...new Set((workload.status?.placements ?? []).map((p) => p.cluster))].sort();
  const publishZeroTo = listed.filter((c) => !acknowledged.has(c));
  const waitingFor = listed.filter((c) => {
    if (!acknowledged.has(c)) return true;
    const cluster = clusters.get(c);
    // A deleted MemberCluster has nobody left to report; a NotReady one gets the durable intent later.
    if (!cluster || !isReady(cluster)) return false;
    const r = reports.get(c);
    return r !== undefined && (r.desiredReplicas > 0 || r.readyReplicas > 0);
  });
  return { publishZeroTo, waitingFor, mayRemoveFinalizer: waitingFor.length === 0 };
}
