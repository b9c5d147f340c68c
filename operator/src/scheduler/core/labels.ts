import { clusterInfo, type ClusterInfo } from "./cluster-info.ts";
import type { Snapshot } from "./snapshot.ts";
import type { ClusterView } from "./types.ts";
import { ExposureLabel, isReservedLabelKey, LabelKey } from "./label-keys.ts";
import { isValidAt } from "./validity.ts";

export { ExposureLabel, isReservedLabelKey, LabelKey } from "./label-keys.ts";

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
