/** The control plane's controllers: workloads and member clusters, and the member reports they read. */
export { ReportBook } from "./reports.ts";
export { desired, crossBorderFailoverOf, nextChange } from "./workload/desired.ts";
export { WorkloadReconciler, WORKLOAD_FIELD_MANAGER, type WorkloadReconcilerDeps } from "./workload/reconciler.ts";
export { MEMBER_CLEANUP_FINALIZER, deletionPlan } from "./workload/finalizer.ts";
export { workloadForUid, workloadsForCluster, workloadsForPolicy } from "./workload/watches.ts";
export type { DecideFn, DesiredInput, DesiredState, MemberReport } from "./workload/types.ts";
export { clusterDesired, ClusterReason, type HeartbeatTiming } from "./membercluster/desired.ts";
export { MemberClusterReconciler } from "./membercluster/reconciler.ts";
