import type { ClusterInfo } from "./cluster-info.ts";
import type { ClusterFilter, Profile } from "./framework.ts";
import { PASS, type Reason } from "./reasons.ts";
import type { Snapshot } from "./snapshot.ts";
import type { PlacementRequest } from "./types.ts";

/** Runs every filter on one cluster, so that a rejection lists all its reasons, not the first. */
function filterCluster(filters: readonly ClusterFilter[], cluster: ClusterInfo): readonly Reason[] {
  let reasons: readonly Reason[] | undefined;
  for (const filter of filters) {
    const r = filter(cluster);
    if (r.length === 0) continue;
    if (!reasons) reasons = r;
    else {
      const merged = reasons.slice();
      for (const x of r) if (!merged.includes(x)) merged.push(x);
      reasons = merged;
    }
  }
  return reasons ?? PASS;
}

export interface Filtered {
  /** In snapshot (name) order. */
  readonly eligible: ClusterInfo[];
  /** Index-aligned with the snapshot's clusters; empty for an eligible cluster. */
  readonly verdicts: (readonly Reason[])[];
}

/** The first stage of a decision: which clusters may hold the workload at all, and why not the others. */
export function filterClusters({ snapshot, request, now, profile }: {
  snapshot: Snapshot;
  request: PlacementRequest;
  now: number;
  profile: Pick<Profile, "filters">;
}): Filtered {
  const filters: ClusterFilter[] = [];
  for (const plugin of profile.filters) {
    const f = plugin.prepare({ request, now });
    if (f) filters.push(f);
  }
  const clusters = snapshot.clusters;
  const verdicts = new Array<readonly Reason[]>(clusters.length);
  const eligible: ClusterInfo[] = [];
  for (let i = 0; i < clusters.length; i++) {
    const reasons = filterCluster(filters, clusters[i]!);
    verdicts[i] = reasons;
    if (reasons.length === 0) eligible.push(clusters[i]!);
  }
  return { eligible, verdicts };
}
