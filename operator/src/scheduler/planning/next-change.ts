import type { MemberCluster } from "../../api/index.ts";
import { validityEnd, type Placement, type PlacementRequest } from "../core/index.ts";
import type { Holder } from "./types.ts";

/**
 * The next instant (epoch ms) this decision can change with no event at all: a
 * certification the workload requires expiring on a cluster it relies on, or the
 * toleration of an unreachable cluster running out. Every entry's end counts, not only
 * the latest per cluster: waking early is harmless, waking late would leave replicas on
 * a cluster that no longer qualifies.
 */
export function nextChangeAt({ request, placements, holders, clusters, now }: {
  request: PlacementRequest;
  placements: readonly Placement[];
  holders: readonly Holder[];
  clusters: ReadonlyMap<string, MemberCluster>;
  now: number;
}): number | undefined {
  const required = new Set(request.constraints.flatMap((c) => c.requiredCertifications ?? []));
  let next = Infinity;
  for (const p of placements) {
    for (const cert of clusters.get(p.cluster)?.spec.residency.certifications ?? []) {
      if (!required.has(cert.name)) continue;
      const end = validityEnd(cert.validUntil);
      if (end > now && end < next) next = end;
    }
  }
  for (const h of holders) if (h.tolerationEndsAt !== undefined && h.tolerationEndsAt > now && h.tolerationEndsAt < next) next = h.tolerationEndsAt;
  return Number.isFinite(next) ? next : undefined;
}
