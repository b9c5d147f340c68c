import type { ClusterInfo } from "./cluster-info.ts";
import type { ClusterFilter, Profile } from "./framework.ts";
import type { Snapshot } from "./snapshot.ts";
import type { PlacementRequest } from "./types.ts";

export interface Filtered {
  /** In snapshot (name) order. */
  readonly eligible: ClusterInfo[];
  /**
   * Index-aligned with the snapshot's clusters: every reason each cluster fails (not
   * just the first), as a ReasonSet; 0 for an eligible cluster.
   */
  readonly verdicts: Int32Array;
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
  const verdicts = new Int32Array(clusters.length);
  // Each plugin writes into its own zeroed array, which is then OR-ed in: whatever a
  // plugin does, it can add reasons but never erase another plugin's.
  const own = new Int32Array(clusters.length);
  for (const filter of filters) {
    own.fill(0);
    filter(snapshot, own);
    for (let i = 0; i < own.length; i++) verdicts[i]! |= own[i]!;
  }
  const eligible: ClusterInfo[] = [];
  for (let i = 0; i < clusters.length; i++) if (verdicts[i] === 0) eligible.push(clusters[i]!);
  return { eligible, verdicts };
}
