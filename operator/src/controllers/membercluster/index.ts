/** The MemberCluster controller: heartbeats to Ready, certifications, labels. */
export { clusterDesired, ClusterReason, type HeartbeatTiming } from "./desired.ts";
export { freshGuardRestores, MAX_GUARD_RESTORES } from "./guard-drift.ts";
export { MemberClusterReconciler, REASON_GUARD_RESTORED } from "./reconciler.ts";
