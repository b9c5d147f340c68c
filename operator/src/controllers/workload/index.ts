/** The workload controller: pure desired step, finalizer plan, watches, reconciler. */
export { desired, crossBorderFailoverOf } from "./desired.ts";
export { WorkloadReconciler, WORKLOAD_FIELD_MANAGER, type WorkloadEventRecord, type WorkloadReconcilerDeps } from "./reconciler.ts";
export { aggregateStatus, ReconcilesToReady, STATUS_FIELD_MANAGER, StatusAggregator, type StatusAggregatorDeps } from "./status-aggregator.ts";
export { withReadiness } from "./status.ts";
export { MEMBER_CLEANUP_FINALIZER, deletionPlan } from "./finalizer.ts";
export {
  addWorkloadIndexes, clusterChangeMatters, decisionInputsChanged, OwnWrites, reportWakesScheduling, schedulingPredicate, UNSCHEDULED,
  watchForScheduling, watchForStatus, WORKLOAD_INDEX, workloadForUid, workloadIndexes, workloadsForCluster, workloadsForPolicy,
} from "./watches.ts";
export type { DesiredInput, DesiredState, MemberReport } from "./types.ts";
