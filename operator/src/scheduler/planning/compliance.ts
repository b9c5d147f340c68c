/**
 * Residency first, then availability, from ONE pass of the filters over every cluster:
 * which clusters may not hold the workload at all (its replicas there leave now), and
 * why each cluster cannot take new replicas now. Every filter runs on every cluster and
 * adds its reasons (core/filter.ts), so the residency reasons of a cluster that is also
 * down or full are all there to read.
 */
import { filterClusters, ReasonBit, reasonsOf, TaintEffect, type PlacementRequest, type Profile, type Reason, type Snapshot } from "../core/index.ts";
import { tolerates } from "../plugins/index.ts";

/** The reasons that say a cluster may not hold the data, whatever its state. */
const RESIDENCY = ReasonBit.CountryNotAllowed | ReasonBit.JurisdictionNotAllowed | ReasonBit.MissingCertification | ReasonBit.CertificationExpired
  | ReasonBit.ExtraterritorialExposure | ReasonBit.SelectorMismatch;

export interface ClusterJudgement {
  /**
   * The clusters whose replicas must leave now, with why: the residency reasons, plus
   * Tainted for a NoExecute taint the workload does not tolerate (a NoSchedule taint keeps
   * new replicas out, like a node's, but does not evict running ones).
   */
  violations: Map<string, readonly string[]>;
  /** Why each cluster cannot take new replicas, capacity aside: residency, readiness, every blocking taint. */
  rejections: Map<string, readonly Reason[]>;
}

export function judgeClusters({ snapshot, request, now, profile }: { snapshot: Snapshot; request: PlacementRequest; now: number; profile: Profile }): ClusterJudgement {
  const { verdicts } = filterClusters({ snapshot, request, now, profile });
  const violations = new Map<string, readonly string[]>();
  const rejections = new Map<string, readonly Reason[]>();
  snapshot.clusters.forEach((cluster, i) => {
    const verdict = verdicts[i]!;
    const evicting = cluster.blockingTaints.some((t) => t.effect === TaintEffect.NoExecute && !request.tolerations.some((tol) => tolerates(tol, t)));
    const residency = (verdict & RESIDENCY) | (evicting ? ReasonBit.Tainted : 0);
    if (residency !== 0) violations.set(cluster.name, reasonsOf(residency));
    // Capacity is this request's question, answered by the decision itself.
    const rejected = verdict & ~ReasonBit.InsufficientCapacity;
    if (rejected !== 0) rejections.set(cluster.name, reasonsOf(rejected));
  });
  return { violations, rejections };
}
