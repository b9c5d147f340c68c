/**
 * Sorts the clusters that hold a workload's replicas into kept, held, lost and evicted.
 * This is where "residency first, then availability" is decided, once, for the rest of
 * the planning to act on.
 */
import type { ClusterPlacement, Condition, Failover, MemberCluster } from "../../api/index.ts";
import { MEMBER_CLUSTER_CONDITIONS } from "../../api/index.ts";
import { HolderState, type Holder } from "./types.ts";

/** A reason code for a cluster that no longer exists: its replicas go, there is nothing to check. */
export const CLUSTER_REMOVED = "ClusterRemoved";

export function readyCondition(cluster: MemberCluster): Condition | undefined {
  return cluster.status?.conditions?.find((c) => c.type === MEMBER_CLUSTER_CONDITIONS.Ready);
}

export function isReady(cluster: MemberCluster): boolean {
  return readyCondition(cluster)?.status === "True";
}

/**
 * Since when (epoch ms) a NotReady cluster has been NotReady: its Ready condition's
 * lastTransitionTime. A cluster that never reported a Ready condition counts from its
 * creation; with neither, from the beginning of time (it gets no toleration it cannot prove).
 */
export function notReadySince(cluster: MemberCluster): number {
  const t = Date.parse(readyCondition(cluster)?.lastTransitionTime ?? cluster.metadata.creationTimestamp ?? "");
  return Number.isNaN(t) ? 0 : t;
}

export function classifyHolders({ previous, clusters, violations, failover, now }: {
  /** status.placements with replicas > 0. */
  previous: readonly Pick<ClusterPlacement, "cluster" | "country" | "replicas">[];
  clusters: ReadonlyMap<string, MemberCluster>;
  violations: ReadonlyMap<string, readonly string[]>;
  failover: Failover;
  now: number;
}): Holder[] {
  return previous.map((p): Holder => {
    const base = { cluster: p.cluster, country: p.country, replicas: p.replicas };
    const cluster = clusters.get(p.cluster);
    if (!cluster) return { ...base, state: HolderState.Evicted, reasons: [CLUSTER_REMOVED] };
    const violated = violations.get(p.cluster);
    if (violated) return { ...base, state: HolderState.Evicted, reasons: violated };
    if (isReady(cluster)) return { ...base, state: HolderState.Kept, reasons: [] };
    // karmada#7455's lesson: failover off means the replicas stay, however long.
    if (!failover.enabled) return { ...base, state: HolderState.Held, reasons: ["NotReady"] };
    const endsAt = notReadySince(cluster) + failover.tolerationSeconds * 1000;
    if (now < endsAt) return { ...base, state: HolderState.Held, reasons: ["NotReady"], tolerationEndsAt: endsAt };
    return { ...base, state: HolderState.Lost, reasons: ["NotReady"] };
  });
}
