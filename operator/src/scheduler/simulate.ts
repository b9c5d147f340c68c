// Decisions for a set of API objects, as the control plane would take them: what
// `kubectl sovereign simulate` and the gRPC Simulate call run. Pure; the caller reads and
// validates the objects.
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { workloadKey } from "./adapt.ts";
import { compareStrings, type Decision } from "./core/index.ts";
import { decisionOf, explainWorkload } from "./explain.ts";

/**
 * One decision per workload, in namespace/name order. Each workload is decided on its
 * own against the clusters as given: capacity is what `status.allocatable` leaves after
 * the other workloads' current `status.placements`, so two simulated workloads do not
 * see each other's new placements; a workload's own `status.placements` are where its
 * replicas are now, planned as the control plane plans them (NotReady holders within
 * their toleration keep theirs, lost ones fail over within residency).
 */
export function simulateObjects({ clusters, policies, workloads, now }: {
  clusters: readonly MemberCluster[];
  policies: readonly ResidencyPolicy[];
  workloads: readonly SovereignWorkload[];
  /** Epoch milliseconds. */
  now: number;
}): Decision[] {
  const policyByName = new Map(policies.map((p) => [p.metadata.name, p]));
  return [...workloads]
    .sort((a, b) => compareStrings(workloadKey(a), workloadKey(b)))
    .map((workload) => decisionOf(explainWorkload({ workload, clusters, policies: policyByName, workloads, now })));
}
