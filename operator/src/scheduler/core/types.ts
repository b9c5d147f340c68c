/**
 * The scheduler core's own plain types. They mirror the API (API.md) closely but carry
 * only what a decision needs, so the core never depends on Kubernetes, NATS or the CRD
 * types: adapters (../adapt.ts) build these from whatever the caller holds.
 */
import type { DecisionReason, Reason, UnselectedReason } from "./reasons.ts";

/** Amounts of the resources capacity is judged on. `Infinity` means "not reported". */
export interface Resources {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
}

export interface Certification {
  name: string;
  version: string;
  /**
   * "YYYY-MM-DD" (valid through the end of that day, UTC) or an RFC 3339 timestamp.
   * Anything unparseable never counts.
   */
  validUntil: string;
}

export const TaintEffect = {
  NoSchedule: "NoSchedule",
  PreferNoSchedule: "PreferNoSchedule",
  NoExecute: "NoExecute",
} as const;

export interface Taint {
  key: string;
  value?: string;
  /** NoSchedule | NoExecute block placement; PreferNoSchedule does not. */
  effect: string;
}

/** A core/v1 Toleration. */
export interface Toleration {
  key?: string;
  /** Equal (default) | Exists */
  operator?: string;
  value?: string;
  effect?: string;
}

export interface LabelSelectorRequirement {
  key: string;
  /** In | NotIn | Exists | DoesNotExist; anything else matches nothing (fail closed). */
  operator: string;
  values?: readonly string[];
}

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly LabelSelectorRequirement[];
}

/** A member cluster as the scheduler sees it at one instant. */
export interface ClusterView {
  name: string;
  /** The Ready condition is True. A cluster with no status is not ready. */
  ready: boolean;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** EU | EEA | NONE */
  jurisdiction: string;
  region?: string;
  provider?: string;
  /** Laws with reach outside the EU the operator is subject to; empty means none. */
  extraterritorialExposure: readonly string[];
  certifications: readonly Certification[];
  taints: readonly Taint[];
  /**
   * The cluster's own labels. Keys under the residency/certification prefixes are
   * ignored: those labels are always computed from the facts above (see labels.ts).
   */
  labels: Readonly<Record<string, string>>;
  /** What is left for new replicas; absent when the cluster has not reported it. */
  free?: Resources;
}

/** One data class: a ResidencyPolicy's spec or a workload's inline `spec.residency`. */
export interface ResidencyConstraints {
  /** Empty or absent: no country constraint. */
  allowedCountries?: readonly string[];
  /** Empty or absent: no jurisdiction constraint. */
  allowedJurisdictions?: readonly string[];
  /** All must be held and valid at "now". */
  requiredCertifications?: readonly string[];
  forbidExtraterritorialExposure?: boolean;
  clusterSelector?: LabelSelector;
}

export const PlacementMode = {
  /** `replicas` in total across the chosen clusters. */
  Divided: "Divided",
  /** `replicas` in each chosen cluster. */
  Duplicated: "Duplicated",
} as const;
export type PlacementMode = (typeof PlacementMode)[keyof typeof PlacementMode];

/** Where a workload's replicas are now: what stable placement keeps when it still fits. */
export interface CurrentPlacement {
  cluster: string;
  replicas: number;
}

/** What one workload asks for. */
export interface PlacementRequest {
  /** "namespace/name", echoed in the decision. */
  workload: string;
  replicas: number;
  mode: PlacementMode;
  /** Cap on clusters used; absent means no cap. */
  maxClusters?: number;
  /** At least this many distinct countries, or unschedulable; absent means 1. */
  minCountries?: number;
  /** Every entry applies (policy and inline): the result is their intersection. */
  constraints: readonly ResidencyConstraints[];
  tolerations: readonly Toleration[];
  /** Requests of one replica (pods is implicitly 1). Zero where nothing is requested. */
  perReplica: Omit<Resources, "pods">;
  /**
   * Where the replicas are now. While every one of these clusters is still eligible and
   * together they still satisfy mode, replicas, maxClusters, spread and capacity, the
   * decision keeps them (re-dividing over them when only `replicas` changed), so a
   * cluster joining or a score moving does not reshuffle a running workload. It never
   * makes a cluster eligible: the filters run first, unchanged.
   */
  current?: readonly CurrentPlacement[];
}

/** Why one cluster was not used. `reasons` is never empty. */
export interface Rejection {
  cluster: string;
  reasons: readonly Reason[];
}

/** An eligible cluster that a scheduled workload did not use, and why. */
export interface Unselection {
  cluster: string;
  reason: UnselectedReason;
}

export interface Placement {
  cluster: string;
  country: string;
  replicas: number;
}

export interface Decision {
  workload: string;
  scheduled: boolean;
  reason: DecisionReason;
  /** kube-scheduler style: "0/6 clusters are available: 3 CountryNotAllowed, 2 NotReady." */
  message: string;
  /** Sorted by cluster name; empty unless scheduled. */
  placements: Placement[];
  /** Sorted by cluster name. */
  rejected: Rejection[];
  /**
   * The eligible clusters not used, sorted by cluster name; empty unless scheduled (an
   * unschedulable workload rejects every cluster). With placements and rejected, every
   * cluster of the input appears exactly once.
   */
  unselected: Unselection[];
}
