// The scheduler's public surface: the pure core with the default plugins wired in, and
// the one path from API objects to a decision with its failover (planning/) that
// simulate, Explain/Simulate and the control plane all take.
export * from "./core/index.ts";
export { defaultProfile, filterPlugins, profileOf, scorePlugins, UnknownPluginError } from "./plugins/index.ts";
export { decide } from "./decide.ts";
export { allocatableOf, clusterViewOf, placementRequestOf, podRequests, PolicyNotFoundError, usedByPlacements, workloadKey, UNDECLARED_EXPOSURE, type PodRequests } from "./adapt.ts";
export { decideWorkload, policyOf, schedulingInputsOf, type PolicySource, type WorkloadDecisionInput } from "./decide-workload.ts";
export { DEFAULT_ASSUME_TTL_MS, SchedulerCache, WorkloadNotCachedError, type Lister, type WatchedLister } from "./cache.ts";
export {
  CLUSTER_REMOVED, classifyHolders, crossBorderFailoverOf, HolderState, isReady, judgeClusters, nextChangeAt, notReadySince, planWorkload, readyCondition,
  type Holder, type PlanningInput, type Replacement, type WorkloadDecision,
} from "./planning/index.ts";
export { decisionOf, explainWorkload } from "./explain.ts";
export { combineResidency, NOTHING_ALLOWED, residencyRequirementsOf, type EffectiveResidency } from "./residency.ts";
export { evictionReasons, mustEvict, ReasonClass, reasonClass } from "./eviction.ts";
export { nextDecisionChange } from "./next-change.ts";
export { simulateObjects } from "./simulate.ts";
export { fileSystemReader, InputError, loadInputs, type InputReader, type Inputs } from "./inputs.ts";
export { bytes, InvalidQuantityError, milliCores, parseQuantity, podCount, type Rounding } from "./quantity.ts";
