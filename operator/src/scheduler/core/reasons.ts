/**
 * Why a cluster cannot take a workload's replicas. The strings are part of the API
 * contract (API.md, "Scheduling semantics"): they appear in `status.rejectedClusters`,
 * in `simulate` output and in metrics labels, so they never change.
 */
export const Reason = {
  NotReady: "NotReady",
  Tainted: "Tainted",
  CountryNotAllowed: "CountryNotAllowed",
  JurisdictionNotAllowed: "JurisdictionNotAllowed",
  MissingCertification: "MissingCertification",
  CertificationExpired: "CertificationExpired",
  ExtraterritorialExposure: "ExtraterritorialExposure",
  SelectorMismatch: "SelectorMismatch",
  InsufficientCapacity: "InsufficientCapacity",
  SpreadUnsatisfiable: "SpreadUnsatisfiable",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** The outcome of one decision, as written to the `Scheduled` condition's reason. */
export const DecisionReason = {
  Scheduled: "Scheduled",
  /** No cluster passed the filters: nothing is placed anywhere. */
  NoCompliantCluster: "NoCompliantCluster",
  /** Clusters passed the filters, but not enough countries (or clusters) for `spread`/`maxClusters`. */
  SpreadUnsatisfiable: "SpreadUnsatisfiable",
  /** Clusters passed the filters, but together they cannot hold `spec.replicas`. */
  InsufficientCapacity: "InsufficientCapacity",
} as const;
export type DecisionReason = (typeof DecisionReason)[keyof typeof DecisionReason];

/**
 * Shared, frozen verdicts so that the hot path allocates nothing for a cluster that
 * passes, and one array at most for a cluster that fails one plugin.
 */
export const PASS: readonly Reason[] = Object.freeze([]);
export const only = Object.freeze(
  Object.fromEntries(Object.values(Reason).map((r) => [r, Object.freeze([r])])) as { readonly [R in Reason]: readonly [R] },
);
