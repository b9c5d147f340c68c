import { clusterInfo, type ClusterInfo } from "./cluster-info.ts";
import type { Snapshot } from "./snapshot.ts";
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

/** Reads one label of the snapshot's cluster `index`; undefined when absent. */
export type ClusterLabelReader = (index: number) => string | undefined;

const exposureLabel = (c: ClusterInfo): string => (c.exposed ? ExposureLabel.exposed : ExposureLabel.none);

/**
 * How to read the label `key` on the snapshot's clusters at `now`, worked out once per
 * key and decision so that a selector costs an array read per cluster, not string
 * parsing. Reserved keys are computed from the residency facts, never read from the
 * cluster's own labels.
 */
export function labelReader({ snapshot, key, now }: { snapshot: Snapshot; key: string; now: number }): ClusterLabelReader {
  const clusters = snapshot.clusters;
  switch (key) {
    case LabelKey.country:
      return (i) => clusters[i]!.country;
    case LabelKey.jurisdiction:
      return (i) => clusters[i]!.jurisdiction;
    case LabelKey.extraterritorialExposure:
      return (i) => exposureLabel(clusters[i]!);
  }
  if (key.startsWith(LabelKey.certificationPrefix)) {
    const name = key.slice(LabelKey.certificationPrefix.length);
    return (i) => {
      const cert = clusters[i]!.labelledCertifications.get(name);
      return cert && isValidAt(cert.end, now) ? cert.version : undefined;
    };
  }
  const column = snapshot.columns.ownLabel(key);
  return (i) => column[i];
}

/**
 * The labels the control plane mirrors onto a MemberCluster (API.md): country,
 * jurisdiction, exposure, and one per certification valid at `now`.
 */
export function residencyLabels(cluster: ClusterView | ClusterInfo, now: number): Record<string, string> {
  const info = "view" in cluster ? cluster : clusterInfo(cluster);
  const labels: Record<string, string> = {
    [LabelKey.country]: info.country,
    [LabelKey.jurisdiction]: info.jurisdiction,
    [LabelKey.extraterritorialExposure]: exposureLabel(info),
  };
  for (const [name, cert] of info.labelledCertifications) {
    if (isValidAt(cert.end, now)) labels[LabelKey.certificationPrefix + name] = cert.version;
  }
  return labels;
}

/** The cluster's own labels (reserved keys dropped) plus the residency labels. */
export function clusterLabels(cluster: ClusterView | ClusterInfo, now: number): Record<string, string> {
  const view = "view" in cluster ? cluster.view : cluster;
  const own = Object.fromEntries(Object.entries(view.labels).filter(([k]) => !isReservedLabelKey(k)));
  return { ...own, ...residencyLabels(cluster, now) };
}
