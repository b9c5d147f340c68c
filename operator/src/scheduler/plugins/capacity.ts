import { replicasThatFit } from "../core/capacity.ts";
import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS } from "../core/reasons.ts";
import { PlacementMode } from "../core/types.ts";

/**
 * Divided: a cluster must fit at least one replica to be worth choosing (whether the
 * chosen ones hold them all is the assigner's question). Duplicated: it must fit all.
 */
export const capacity: FilterPlugin = {
  name: "Capacity",
  prepare: ({ request }) => {
    const needed = request.mode === PlacementMode.Duplicated ? request.replicas : Math.min(1, request.replicas);
    if (needed <= 0) return null;
    return (cluster) => (replicasThatFit(cluster.view.free, request.perReplica) >= needed ? PASS : only.InsufficientCapacity);
  },
};
