/** The MemberCluster controller: heartbeats to Ready, certifications, labels; a deleted member's streams. */
export { clusterDesired, ClusterReason, type HeartbeatTiming } from "./desired.ts";
export { freshGuardRestores, MAX_GUARD_RESTORES } from "./guard-drift.ts";
export { MemberClusterReconciler, REASON_GUARD_RESTORED } from "./reconciler.ts";
export { DeletedMemberStreams, MEMBER_AGENT_GONE_MS, MEMBER_STREAMS_RETRY_MS, memberAgentGone, memberStreamsUnused } from "./member-streams.ts";
