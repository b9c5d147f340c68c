import { LabelKey, validityEnd, type ClusterView, type PlacementRequest } from "./core/index.ts";

/**
 * The earliest instant after `now` at which the decision for `request` can change on its
 * own, with no object changing: when a certification it relies on (required by a
 * constraint, or named by a selector's certification label) stops counting on one of
 * `clusters`. Undefined when no such instant is ahead. The reconciler requeues itself
 * then, so an expiring certification moves replicas at expiry, not at the next event.
 * Every entry's end counts, not only the latest per cluster: waking early is harmless,
 * waking late would leave replicas on a cluster that no longer qualifies.
 */
export function nextDecisionChange({ clusters, request, now }: { clusters: readonly ClusterView[]; request: PlacementRequest; now: number }): number | undefined {
  const names = new Set<string>();
  const labelled = new Set<string>();
  for (const c of request.constraints) {
    for (const name of c.requiredCertifications ?? []) names.add(name);
    const keys = [...Object.keys(c.clusterSelector?.matchLabels ?? {}), ...(c.clusterSelector?.matchExpressions ?? []).map((e) => e.key)];
    for (const key of keys) if (key.startsWith(LabelKey.certificationPrefix)) labelled.add(key.slice(LabelKey.certificationPrefix.length));
  }
  if (names.size === 0 && labelled.size === 0) return undefined;
  let next = Infinity;
  for (const cluster of clusters) {
    for (const cert of cluster.certifications) {
      if (!names.has(cert.name) && !labelled.has(cert.name.toLowerCase())) continue;
      const end = validityEnd(cert.validUntil);
      if (end > now && end < next) next = end;
    }
  }
  return Number.isFinite(next) ? next : undefined;
}
