// The one path from API objects to a Decision: what `kubectl sovereign simulate`, the gRPC
// Explain and Simulate calls and the control plane's workload reconciler all run, so the
// decision an admin previews is the one the control plane takes.
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { clusterViewOf, placementRequestOf, usedByPlacements, workloadKey } from "./adapt.ts";
import type { ClusterView, CurrentPlacement, Decision, PlacementRequest, Profile, ResidencyConstraints } from "./core/index.ts";
import { decide } from "./decide.ts";

/** Policies by name: a list, or anything with `get(name)` (an informer's cache). */
export type PolicySource = readonly ResidencyPolicy[] | { get(name: string): ResidencyPolicy | undefined };

export interface WorkloadDecisionInput {
  workload: SovereignWorkload;
  clusters: readonly MemberCluster[];
  policies: PolicySource;
  /** Every workload (this one may be among them): their placements take capacity. */
  workloads: readonly SovereignWorkload[];
  /** Epoch milliseconds. */
  now: number;
  /** Where this workload's replicas are now; default its `status.placements`. Kept while they still fit. */
  current?: readonly CurrentPlacement[] | undefined;
  /**
   * NotReady clusters to count as ready: those still within `failover.tolerationSeconds`
   * that hold this workload's replicas, so the replicas stay until the toleration ends.
   */
  treatAsReady?: ReadonlySet<string> | undefined;
  /** Narrow further, never widen (e.g. `[{ allowedCountries: ["FR"] }]` when failover may not cross borders). */
  extraConstraints?: readonly ResidencyConstraints[] | undefined;
  /** Instead of `spec.replicas`. */
  replicas?: number | undefined;
  /** Other workloads' placements decided but not yet in their status (the scheduler cache's). */
  assumed?: ReadonlyMap<string, readonly CurrentPlacement[]> | undefined;
  profile?: Profile | undefined;
}

export function policyOf({ workload, policies }: { workload: SovereignWorkload; policies: PolicySource }): ResidencyPolicy | undefined {
  const name = workload.spec.residencyPolicy;
  if (name === undefined) return undefined;
  return "get" in policies ? policies.get(name) : policies.find((p) => p.metadata.name === name);
}

/**
 * The core's inputs for one workload: its request and the clusters as it sees them
 * (capacity left by the others' placements). Throws PolicyNotFoundError when the policy
 * it names is absent: deciding on the inline constraints alone would be looser than asked.
 */
export function schedulingInputsOf(input: WorkloadDecisionInput): { request: PlacementRequest; clusters: ClusterView[] } {
  const { workload, clusters, workloads, assumed, treatAsReady } = input;
  const key = workloadKey(workload);
  const request = placementRequestOf({
    workload,
    policy: policyOf({ workload, policies: input.policies }),
    extraConstraints: input.extraConstraints ?? [],
    replicas: input.replicas,
    current: input.current ?? workload.status?.placements,
  });
  const used = usedByPlacements({ workloads, exclude: key, ...(assumed ? { assumed } : {}) });
  const views = clusters.map((cluster) =>
    clusterViewOf({ cluster, used: used.get(cluster.metadata.name), treatAsReady: treatAsReady?.has(cluster.metadata.name) ?? false }),
  );
  return { request, clusters: views };
}

/** Where one workload's replicas go, from the API objects. */
export function decideWorkload(input: WorkloadDecisionInput): Decision {
  const { request, clusters } = schedulingInputsOf(input);
  return decide({ clusters, request, now: input.now, ...(input.profile ? { profile: input.profile } : {}) });
}
