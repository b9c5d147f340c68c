/**
 * Why a cluster cannot take a workload's replicas. The strings are part of the API
 * contract (API.md, "Scheduling semantics"): they appear in `status.rejectedClusters`,
 * in `simulate` output and in metrics labels, so they never change. Their order here is
 * the order they are listed in.
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
  /** No member may run the pod template (privileged, host namespaces, hostPath...): placed nowhere. */
  PodTemplateForbidden: "PodTemplateForbidden",
} as const;
export type DecisionReason = (typeof DecisionReason)[keyof typeof DecisionReason];

/**
 * Why an eligible cluster holds no replica of a scheduled workload: it passed every
 * filter, so it is not rejected, but it was not chosen. Listed so that every cluster is
 * accounted for (an addition to API.md's decision: `unselected`).
 */
export const UnselectedReason = {
  /** maxClusters was filled by other eligible clusters (better scored, or needed for capacity). */
  MaxClustersReached: "MaxClustersReached",
  /**
   * There were fewer replicas than eligible clusters (Divided gives each chosen cluster at
   * least one), or none at all (spec.replicas 0).
   */
  NoReplicasLeft: "NoReplicasLeft",
  /**
   * The workload's current clusters still satisfy it, and stable placement keeps them
   * rather than move running replicas to clusters that score better.
   */
  PlacementKept: "PlacementKept",
} as const;
export type UnselectedReason = (typeof UnselectedReason)[keyof typeof UnselectedReason];

const ALL: readonly Reason[] = Object.values(Reason);

/**
 * A set of reasons as a bitmask, 0 for none. Filters run once per cluster per decision;
 * returning a number instead of an array means a decision over 1,000 clusters allocates
 * nothing for the filtering itself.
 */
export type ReasonSet = number;

/** The empty set: the cluster passes. */
export const PASS: ReasonSet = 0;

export const ReasonBit: { readonly [R in Reason]: ReasonSet } = Object.freeze(
  Object.fromEntries(ALL.map((r, i) => [r, 1 << i])) as { [R in Reason]: ReasonSet },
);

// Every one of the 2^10 sets, materialised once and shared (frozen), so reading a
// rejection's reasons is an array index.
const LISTS: readonly (readonly Reason[])[] = Array.from({ length: 1 << ALL.length }, (_, set) =>
  Object.freeze(ALL.filter((_, i) => (set & (1 << i)) !== 0)),
);

/** The reasons of a set, in API order; the same frozen array for the same set. */
export function reasonsOf(set: ReasonSet): readonly Reason[] {
  return LISTS[set] ?? Object.freeze(ALL.filter((_, i) => (set & (1 << i)) !== 0));
}

/** Adds `times` to the count (indexed by bit position) of each reason of `set`. */
export function countReasons(set: ReasonSet, counts: Int32Array, times = 1): void {
  for (let rest = set; rest !== 0; rest &= rest - 1) counts[31 - Math.clz32(rest & -rest)]! += times;
}

/** The reason at a bit position, for reading `countReasons`' counts. */
export function reasonAt(bit: number): Reason {
  return ALL[bit]!;
}

export const REASON_COUNT = ALL.length;
/** How many distinct ReasonSets there are (every subset of the reasons). */
export const REASON_SET_COUNT = 1 << ALL.length;
