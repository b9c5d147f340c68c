// Residency first, then availability: a cluster that stops being compliant loses a
// workload's replicas at once, replacement or not; one that is only unavailable keeps
// them for the failover toleration. This says which is which.
import { createSnapshot, Reason, reasonsOf, TaintEffect, type ClusterView, type PlacementRequest } from "./core/index.ts";
import { filterPlugins, tolerates } from "./plugins/index.ts";

export const ReasonClass = {
  /** The cluster may not hold the workload at all: replicas there must leave now. */
  Residency: "Residency",
  /** The cluster could hold it but cannot now: replicas there may wait out the toleration. */
  Availability: "Availability",
} as const;
export type ReasonClass = (typeof ReasonClass)[keyof typeof ReasonClass];

/**
 * Tainted is Availability here: a NoSchedule taint only keeps new replicas out. A NoExecute
 * taint the workload does not tolerate is "must leave now", which evictionReasons says,
 * since the reason alone does not carry the effect.
 */
const CLASS: { readonly [R in Reason]: ReasonClass } = {
  NotReady: ReasonClass.Availability,
  Tainted: ReasonClass.Availability,
  CountryNotAllowed: ReasonClass.Residency,
  JurisdictionNotAllowed: ReasonClass.Residency,
  MissingCertification: ReasonClass.Residency,
  CertificationExpired: ReasonClass.Residency,
  ExtraterritorialExposure: ReasonClass.Residency,
  SelectorMismatch: ReasonClass.Residency,
  InsufficientCapacity: ReasonClass.Availability,
  SpreadUnsatisfiable: ReasonClass.Availability,
};

export function reasonClass(reason: Reason): ReasonClass {
  return CLASS[reason];
}

const RESIDENCY_FILTERS = [filterPlugins.Country!, filterPlugins.Jurisdiction!, filterPlugins.Certification!, filterPlugins.ExtraterritorialExposure!, filterPlugins.ClusterSelector!];

/**
 * Why the workload's replicas must leave `cluster` now, whatever else happens: the
 * residency reasons it fails (the same filter plugins as a decision, so the two cannot
 * disagree), plus Tainted for a NoExecute taint it does not tolerate. Empty when they
 * may stay; readiness and capacity never count here.
 */
export function evictionReasons({ cluster, request, now }: { cluster: ClusterView; request: PlacementRequest; now: number }): Reason[] {
  const snapshot = createSnapshot([cluster]);
  let verdict = 0;
  for (const plugin of RESIDENCY_FILTERS) {
    const filter = plugin.prepare({ request, now });
    if (!filter) continue;
    const own = new Int32Array(1);
    filter(snapshot, own);
    verdict |= own[0]!;
  }
  const reasons = [...reasonsOf(verdict)];
  const evicting = cluster.taints.some((t) => t.effect === TaintEffect.NoExecute && !request.tolerations.some((tol) => tolerates(tol, t)));
  if (evicting) reasons.splice(0, 0, Reason.Tainted);
  return reasons;
}

/** True when the workload's replicas on `cluster` must leave now (see evictionReasons). */
export function mustEvict(input: { cluster: ClusterView; request: PlacementRequest; now: number }): boolean {
  return evictionReasons(input).length > 0;
}
