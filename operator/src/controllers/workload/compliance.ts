/**
 * Residency first, then availability: a cluster that holds replicas is judged on its
 * residency alone (is it still allowed to run this workload at all?), separately from
 * whether it is up. The same scheduler core decides both, on views that blank out what
 * the question is not about.
 */
import type { Condition, MemberCluster } from "../../api/index.ts";
import { MEMBER_CLUSTER_CONDITIONS } from "../../api/index.ts";
import { clusterViewOf } from "../../scheduler/index.ts";
import { decide, Reason } from "../../scheduler/index.ts";
import type { ClusterView, PlacementRequest } from "../../scheduler/index.ts";

/** Reasons that say a cluster is unavailable or full, not that it may not hold the data. */
const NOT_RESIDENCY: ReadonlySet<string> = new Set([Reason.NotReady, Reason.InsufficientCapacity, Reason.SpreadUnsatisfiable]);

/** A reason code for a cluster that no longer exists: its replicas go, there is nothing to check. */
export const CLUSTER_REMOVED = "ClusterRemoved";

/** One replica on every cluster, no caps: the question is only "may it run here". */
function probe(request: PlacementRequest): PlacementRequest {
  const { maxClusters: _m, minCountries: _c, ...rest } = request;
  return { ...rest, replicas: 1, mode: "Duplicated" };
}

function withoutCapacity(view: ClusterView): ClusterView {
  const { free: _free, ...rest } = view;
  return rest;
}

/**
 * The residency reasons of every cluster that is NOT compliant for `request` at `now`.
 * Readiness and capacity do not count; of the taints only NoExecute ones do (a NoSchedule
 * taint keeps new replicas out, like a node's, but does not evict running ones).
 */
export function residencyViolations({ clusters, request, now }: { clusters: readonly MemberCluster[]; request: PlacementRequest; now: number }): Map<string, readonly string[]> {
  const views = clusters.map((cluster) => {
    const view = withoutCapacity(clusterViewOf({ cluster }));
    return { ...view, ready: true, taints: view.taints.filter((t) => t.effect === "NoExecute") };
  });
  const decision = decide({ clusters: views, request: probe(request), now });
  const out = new Map<string, readonly string[]>();
  for (const r of decision.rejected) {
    const reasons = r.reasons.filter((x) => !NOT_RESIDENCY.has(x));
    if (reasons.length > 0) out.set(r.cluster, reasons);
  }
  return out;
}

/**
 * Why each cluster cannot take new replicas now, capacity aside: residency, readiness and
 * every blocking taint. This is what status.rejectedClusters shows for a workload whose
 * placement did not need a new decision.
 */
export function placementRejections({ clusters, request, now }: { clusters: readonly MemberCluster[]; request: PlacementRequest; now: number }): Map<string, readonly string[]> {
  const views = clusters.map((cluster) => withoutCapacity(clusterViewOf({ cluster })));
  const decision = decide({ clusters: views, request: probe(request), now });
  return new Map(decision.rejected.map((r) => [r.cluster, r.reasons]));
}

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
