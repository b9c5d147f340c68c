/**
 * Sorts the clusters that hold a workload's replicas into kept, held, lost and evicted.
 * This is where "residency first, then availability" is decided, once, for the rest of
 * the desired step to act on.
 */
import type { ClusterPlacement, Failover, MemberCluster } from "../../api/index.ts";
import { CLUSTER_REMOVED, isReady, notReadySince } from "./compliance.ts";
import { HolderState, type Holder } from "./types.ts";

export function classifyHolders({ previous, clusters, violations, failover, now }: {
  /** status.placements with replicas > 0. */
  previous: readonly ClusterPlacement[];
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
