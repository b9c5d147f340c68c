/** The MemberCluster controller: heartbeats to Ready, certifications, labels. */
export { clusterDesired, ClusterReason, type HeartbeatTiming } from "./desired.ts";
export { MemberClusterReconciler } from "./reconciler.ts";
