import type { PlacementRequest, Resources } from "./types.ts";

/** NaN and negatives (over-committed clusters) are "nothing free": fail closed. */
function nonNegative(x: number): number {
  return x > 0 ? x : 0;
}

/**
 * How many more replicas of one pod shape fit in what a cluster has free. Each replica
 * is one pod; cpu and memory count only when requested. A cluster that has not
 * reported capacity gives Infinity: capacity is a scheduling concern, not a residency
 * one, and the member's own kube-scheduler has the last word on what fits.
 */
export function replicasThatFit(free: Resources | undefined, perReplica: PlacementRequest["perReplica"]): number {
  if (!free) return Infinity;
  return fitOf({ pods: free.pods, cpuMilli: free.cpuMilli, memoryBytes: free.memoryBytes, perReplica });
}

/** replicasThatFit on bare numbers (Infinity where not reported), for callers reading snapshot columns. */
export function fitOf({ pods, cpuMilli, memoryBytes, perReplica }: { pods: number; cpuMilli: number; memoryBytes: number; perReplica: PlacementRequest["perReplica"] }): number {
  let fit = Math.floor(nonNegative(pods));
  if (perReplica.cpuMilli > 0) fit = Math.min(fit, Math.floor(nonNegative(cpuMilli) / perReplica.cpuMilli));
  if (perReplica.memoryBytes > 0) fit = Math.min(fit, Math.floor(nonNegative(memoryBytes) / perReplica.memoryBytes));
  return fit;
}
