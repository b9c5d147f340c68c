// The planning: held / lost / evicted / spread, around the core's decisions.
export { CLUSTER_REMOVED, classifyHolders, isReady, notReadySince, readyCondition } from "./holders.ts";
export { judgeClusters, type ClusterJudgement } from "./compliance.ts";
export { merge, trimTo, unmet, plan, type Plan } from "./plan.ts";
export { nextChangeAt } from "./next-change.ts";
export { crossBorderFailoverOf, planWorkload } from "./plan-workload.ts";
export { HolderState, type Holder, type PlanningInput, type Replacement, type SubDecide, type WorkloadDecision } from "./types.ts";
