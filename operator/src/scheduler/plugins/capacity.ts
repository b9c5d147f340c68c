import { ReasonBit, PlacementMode, type FilterPlugin } from "../core/index.ts";

/**
 * Divided: a cluster must fit at least one replica to be worth choosing (whether the
 * chosen ones hold them all is the assigner's question). Duplicated: it must fit all.
 * A cluster that has not reported capacity passes (see replicasThatFit).
 *
 * Same answer as `replicasThatFit(free, perReplica) >= needed`, without the divisions:
 * floor(free / request) >= needed exactly when free >= needed * request. Written as
 * `!(free >= ...)` so that NaN rejects.
 */
export const capacity: FilterPlugin = {
  name: "Capacity",
  prepare: ({ request }) => {
    const needed = request.mode === PlacementMode.Duplicated ? request.replicas : Math.min(1, request.replicas);
    if (needed <= 0) return null;
    const cpu = request.perReplica.cpuMilli * needed;
    const memory = request.perReplica.memoryBytes * needed;
    return ({ columns: { freePods, freeCpuMilli, freeMemoryBytes } }, verdicts) => {
      for (let i = 0; i < freePods.length; i++) {
        if (!(freePods[i]! >= needed) || (cpu > 0 && !(freeCpuMilli[i]! >= cpu)) || (memory > 0 && !(freeMemoryBytes[i]! >= memory))) {
          verdicts[i]! |= ReasonBit.InsufficientCapacity;
        }
      }
    };
  },
};
