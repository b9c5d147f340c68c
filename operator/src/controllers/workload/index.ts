/** The workload controller: pure desired step, finalizer plan, watches, reconciler. */
export { desired, crossBorderFailoverOf } from "./desired.ts";
export { WorkloadReconciler, WORKLOAD_FIELD_MANAGER, type WorkloadReconcilerDeps } from "./reconciler.ts";
export { MEMBER_CLEANUP_FINALIZER, deletionPlan } from "./finalizer.ts";
export { clusterChangeMatters, workloadForUid, workloadsForCluster, workloadsForPolicy } from "./watches.ts";
export type { DesiredInput, DesiredState, MemberReport } from "./types.ts";
