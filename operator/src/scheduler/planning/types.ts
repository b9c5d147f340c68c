/**
 * What the planning reads and returns: one decision for one workload, from a snapshot of
 * the federation, where its replicas are now and the instant. No I/O and no clock.
 */
import type { ClusterPlacement, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import type { Decision, DecisionReason, Placement, PlacementRequest, Profile, Rejection, Resources, Unselection } from "../core/index.ts";

/** Why a cluster holding replicas loses them, or keeps them. */
export const HolderState = {
  /** Ready and compliant: keeps its replicas. */
  Kept: "Kept",
  /** NotReady but within failover.tolerationSeconds (or failover disabled): keeps exactly its replicas. */
  Held: "Held",
  /** NotReady past its toleration: its replicas are re-placed within residency, if anywhere. */
  Lost: "Lost",
  /** No longer compliant (or gone): loses its replicas at once, replacement or not. */
  Evicted: "Evicted",
} as const;
export type HolderState = (typeof HolderState)[keyof typeof HolderState];

export interface Holder {
  cluster: string;
  country: string;
  replicas: number;
  state: HolderState;
  /** For Evicted: the residency reasons (or "ClusterRemoved"); for Lost/Held: ["NotReady"]. */
  reasons: readonly string[];
  /** For Held with failover on: when its toleration ends (epoch ms). */
  tolerationEndsAt?: number;
}

/** What one planning step gets: everything it reads, nothing it must fetch. */
export interface PlanningInput {
  workload: SovereignWorkload;
  /** The ResidencyPolicy the workload names, when it names one (PolicyNotFoundError otherwise). */
  policy?: ResidencyPolicy | undefined;
  clusters: readonly MemberCluster[];
  /**
   * Per cluster, what the OTHER workloads' placements take: their status, or the
   * placements the scheduler cache assumed for them. Absent clusters: nothing used.
   */
  used: ReadonlyMap<string, Resources>;
  /** Where the replicas are now; default the workload's `status.placements`. Zero entries are ignored. */
  current?: readonly ClusterPlacement[] | undefined;
  /** Epoch milliseconds. */
  now: number;
  profile?: Profile | undefined;
}

/** A lost or evicted holder whose replicas found a replacement, and where they went. */
export interface Replacement {
  from: Holder;
  to: Placement[];
}

/**
 * One workload's decision with its failover: where the replicas go given who holds them
 * now, why, and which clusters cannot take them. What the controller acts on, Explain
 * answers and simulate prints.
 */
export interface WorkloadDecision {
  /** "namespace/name". */
  workload: string;
  /** The request the decision answers (policy and inline constraints), without the failover's narrowing. */
  request: PlacementRequest;
  /** cluster → replicas, only clusters with replicas > 0, sorted by name. */
  placements: Placement[];
  scheduled: boolean;
  reason: DecisionReason;
  message: string;
  /** Every cluster that held replicas before, sorted into kept, held, lost and evicted. */
  holders: Holder[];
  /** Lost clusters whose replicas found a replacement, with where they went. */
  failedOver: Replacement[];
  /** Evicted clusters whose replicas found a replacement. */
  replaced: Replacement[];
  /**
   * Clusters holding no replica and why they cannot take one now: residency, readiness,
   * taints, plus capacity and spread when a decision was taken. Sorted by cluster name.
   */
  rejected: Rejection[];
  /** The remaining clusters: eligible, holding nothing. Sorted by cluster name. */
  unselected: Unselection[];
  /** Clusters that may not hold this workload at all (residency, NoExecute taints), with why. */
  nonCompliant: ReadonlyMap<string, readonly string[]>;
  /** False when the placement was kept as it was, without asking the core. */
  decided: boolean;
  /** The next instant (epoch ms) the decision can change with no object changing; undefined: only on change. */
  nextChangeAt?: number;
}

/** The core's answer to one sub-request: `exclude` may not be used, `current` is kept while it fits. */
export type SubDecide = (params: { request: PlacementRequest; exclude: ReadonlySet<string>; current: readonly Placement[] }) => Decision;
