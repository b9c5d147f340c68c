// A workload's decision from API objects alone, as the control plane takes it: what gRPC
// Explain and Simulate and `kubectl sovereign simulate` answer. The capacity the other
// workloads take is read from their `status.placements` (the control plane also counts
// placements it decided a moment ago and has not written yet: the scheduler cache's).
import type { ClusterPlacement, MemberCluster, SovereignWorkload } from "../api/index.ts";
import { usedByPlacements, workloadKey } from "./adapt.ts";
import type { Decision, Profile } from "./core/index.ts";
import { policyOf, type PolicySource } from "./decide-workload.ts";
import { planWorkload, type WorkloadDecision } from "./planning/index.ts";

export function explainWorkload({ workload, clusters, policies, workloads, now, current, profile }: {
  workload: SovereignWorkload;
  clusters: readonly MemberCluster[];
  policies: PolicySource;
  /** Every workload (this one may be among them): their placements take capacity. */
  workloads: readonly SovereignWorkload[];
  /** Epoch milliseconds. */
  now: number;
  /** Where the replicas are now; default the workload's `status.placements`. */
  current?: readonly ClusterPlacement[] | undefined;
  profile?: Profile | undefined;
}): WorkloadDecision {
  return planWorkload({
    workload,
    policy: policyOf({ workload, policies }),
    clusters,
    used: usedByPlacements({ workloads, exclude: workloadKey(workload) }),
    now,
    ...(current ? { current } : {}),
    ...(profile ? { profile } : {}),
  });
}

/** The decision as API.md shows it: every cluster once, as placed, rejected or unselected. */
export function decisionOf(d: WorkloadDecision): Decision {
  return { workload: d.workload, scheduled: d.scheduled, reason: d.reason, message: d.message, placements: d.placements, rejected: d.rejected, unselected: d.unselected };
}
