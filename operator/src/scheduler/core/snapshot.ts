import { clusterInfo, type ClusterInfo } from "./cluster-info.ts";
import { byName } from "./order.ts";
import type { ClusterView } from "./types.ts";

/** Two clusters with one name: the input is wrong, retrying will not help. */
export class DuplicateClusterError extends Error {
  override readonly name = "DuplicateClusterError";
  readonly retryable = false;
  readonly cluster: string;
  constructor(cluster: string) {
    super(`cluster "${cluster}" appears more than once in the snapshot`);
    this.cluster = cluster;
  }
}

/**
 * The clusters as one decision (or many) sees them, sorted by name. Sorting here is
 * what makes the decision independent of the order the caller listed clusters in, and
 * doing it once per snapshot keeps it out of the per-workload cost.
 */
export interface Snapshot {
  readonly clusters: readonly ClusterInfo[];
}

export function createSnapshot(clusters: readonly ClusterView[]): Snapshot {
  const infos = clusters.map(clusterInfo).sort(byName);
  for (let i = 1; i < infos.length; i++) {
    if (infos[i]!.name === infos[i - 1]!.name) throw new DuplicateClusterError(infos[i]!.name);
  }
  return { clusters: infos };
}
