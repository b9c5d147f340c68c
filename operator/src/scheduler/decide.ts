import { createSnapshot, schedule, type ClusterView, type Decision, type PlacementRequest, type Profile, type Snapshot } from "./core/index.ts";
import { defaultProfile } from "./plugins/index.ts";

/**
 * Decides where one workload's replicas go, with the default plugins. Pass a `snapshot`
 * to decide many workloads against the same clusters without re-sorting them each time.
 */
export function decide({ clusters, snapshot, request, now, profile = defaultProfile }: {
  clusters?: readonly ClusterView[];
  snapshot?: Snapshot;
  request: PlacementRequest;
  /** Epoch milliseconds. */
  now: number;
  profile?: Profile;
}): Decision {
  return schedule({ snapshot: snapshot ?? createSnapshot(clusters ?? []), request, now, profile });
}
