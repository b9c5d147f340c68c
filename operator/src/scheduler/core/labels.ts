import { clusterInfo, type ClusterInfo, type CertificationInfo } from "./cluster-info.ts";
import type { ClusterView } from "./types.ts";
import { isValidAt } from "./validity.ts";

export const LabelKey = {
  country: "residency.sovereignty.eu/country",
  jurisdiction: "residency.sovereignty.eu/jurisdiction",
  extraterritorialExposure: "residency.sovereignty.eu/extraterritorial-exposure",
  /** Followed by the lowercased certification name. */
  certificationPrefix: "certification.sovereignty.eu/",
} as const;

const RESIDENCY_PREFIX = "residency.sovereignty.eu/";

/**
 * Labels under these prefixes are computed from the declared residency facts and
 * nothing else: a stale or hand-set label must never let a selector believe a cluster
 * holds a certification it does not (or no longer) hold.
 */
export function isReservedLabelKey(key: string): boolean {
  return key.startsWith(RESIDENCY_PREFIX) || key.startsWith(LabelKey.certificationPrefix);
}

export const ExposureLabel = { none: "none", exposed: "exposed" } as const;

/** The valid certification that names the label when several share a name: latest end, then highest version. */
function labelledCertification(certs: readonly CertificationInfo[], lowerName: string, now: number): CertificationInfo | undefined {
  let best: CertificationInfo | undefined;
  for (const c of certs) {
    if (c.name.toLowerCase() !== lowerName || !isValidAt(c.end, now)) continue;
    if (!best || c.end > best.end || (c.end === best.end && c.version > best.version)) best = c;
  }
  return best;
}

/**
 * One label of a cluster as a selector sees it at `now`, computed on demand so that a
 * selector costs a few lookups rather than a map per cluster per decision.
 */
export function labelValue(cluster: ClusterInfo, key: string, now: number): string | undefined {
  if (!isReservedLabelKey(key)) return Object.hasOwn(cluster.view.labels, key) ? cluster.view.labels[key] : undefined;
  switch (key) {
    case LabelKey.country:
      return cluster.view.country;
    case LabelKey.jurisdiction:
      return cluster.view.jurisdiction;
    case LabelKey.extraterritorialExposure:
      return cluster.view.extraterritorialExposure.length === 0 ? ExposureLabel.none : ExposureLabel.exposed;
  }
  if (key.startsWith(LabelKey.certificationPrefix)) {
    return labelledCertification(cluster.certifications, key.slice(LabelKey.certificationPrefix.length), now)?.version;
  }
  return undefined;
}

/**
 * The labels the control plane mirrors onto a MemberCluster (API.md): country,
 * jurisdiction, exposure, and one per certification valid at `now`.
 */
export function residencyLabels(cluster: ClusterView | ClusterInfo, now: number): Record<string, string> {
  const info = "view" in cluster ? cluster : clusterInfo(cluster);
  const labels: Record<string, string> = {
    [LabelKey.country]: info.view.country,
    [LabelKey.jurisdiction]: info.view.jurisdiction,
    [LabelKey.extraterritorialExposure]: info.view.extraterritorialExposure.length === 0 ? ExposureLabel.none : ExposureLabel.exposed,
  };
  for (const c of info.certifications) {
    const lower = c.name.toLowerCase();
    const chosen = labelledCertification(info.certifications, lower, now);
    if (chosen) labels[LabelKey.certificationPrefix + lower] = chosen.version;
  }
  return labels;
}

/** The cluster's own labels (reserved keys dropped) plus the residency labels. */
export function clusterLabels(cluster: ClusterView | ClusterInfo, now: number): Record<string, string> {
  const view = "view" in cluster ? cluster.view : cluster;
  const own = Object.fromEntries(Object.entries(view.labels).filter(([k]) => !isReservedLabelKey(k)));
  return { ...own, ...residencyLabels(cluster, now) };
}
