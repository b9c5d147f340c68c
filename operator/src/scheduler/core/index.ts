// The scheduler core's public surface. Everything here is pure.
export type { ClusterInfo, CertificationInfo } from "./cluster-info.ts";
export { clusterInfo } from "./cluster-info.ts";
export { replicasThatFit } from "./capacity.ts";
export type { ClusterFilter, ClusterScorer, FilterContext, FilterPlugin, Locality, Profile, ScoreContext, ScorePlugin, SelectionState } from "./framework.ts";
export { clampScore, MAX_SCORE, MIN_SCORE } from "./framework.ts";
export { clusterLabels, ExposureLabel, isReservedLabelKey, LabelKey, labelReader, residencyLabels } from "./labels.ts";
export { countReasons, DecisionReason, PASS, Reason, ReasonBit, reasonsOf, UnselectedReason, type ReasonSet } from "./reasons.ts";
export { filterClusters, type Filtered } from "./filter.ts";
export { schedule } from "./schedule.ts";
export { compileClusterSelector, SelectorOperator } from "./selector.ts";
export type { Snapshot, SnapshotColumns } from "./snapshot.ts";
export { createSnapshot, DuplicateClusterError } from "./snapshot.ts";
export { summarize } from "./summary.ts";
export type {
  Certification, ClusterView, CurrentPlacement, Decision, LabelSelector, LabelSelectorRequirement, Placement, PlacementRequest, Rejection,
  ResidencyConstraints, Resources, Taint, Toleration, Unselection,
} from "./types.ts";
export { PlacementMode, TaintEffect } from "./types.ts";
export { isValidAt, validityEnd } from "./validity.ts";
export { byName, compareStrings } from "./order.ts";
