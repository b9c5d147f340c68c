// One core decision from API objects, with no holders: where a workload's replicas would
// go if none were placed yet (or all of `current` were up). The control plane, Explain and
// simulate do not stop here: they plan around the clusters holding replicas
// (planning/plan-workload.ts), which calls the core the same way.
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
  const { workload, clusters, workloads, assumed } = input;
  const key = workloadKey(workload);
  const request = placementRequestOf({
    workload,
    policy: policyOf({ workload, policies: input.policies }),
    extraConstraints: input.extraConstraints ?? [],
    replicas: input.replicas,
    current: input.current ?? workload.status?.placements,
  });
  const used = usedByPlacements({ workloads, exclude: key, ...(assumed ? { assumed } : {}) });
  const views = clusters.map((cluster) => clusterViewOf({ cluster, used: used.get(cluster.metadata.name) }));
  return { request, clusters: views };
}

/** Where one workload's replicas go, from the API objects. */
export function decideWorkload(input: WorkloadDecisionInput): Decision {
  const { request, clusters } = schedulingInputsOf(input);
  return decide({ clusters, request, now: input.now, ...(input.profile ? { profile: input.profile } : {}) });
}
