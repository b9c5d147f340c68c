/**
 * What the rest of the code may say to metrics: small interfaces with no-op defaults,
 * so runtime/, controllers/ and agent/ never import prom-client (only metrics/ does).
 * Modelled on controller-runtime's MetricsProvider and Karmada's scheduler metrics.
 */

/** controller-runtime's reconcile results, the `result` label. */
export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

export interface ControllerMetrics {
  reconciled(params: { controller: string; result: ReconcileResult; seconds: number }): void;
  /** A reconcile that threw; `terminal` ones are counted in controller_runtime_terminal_reconcile_errors_total too. */
  reconcileError(params: { controller: string; terminal: boolean }): void;
  activeWorkers(params: { controller: string; delta: number }): void;
  /**
   * Called once when a controller starts. Like controller-runtime's initMetrics, it also
   * creates the controller's other series at 0, so `rate()` and alerts see a controller
   * that has not yet failed instead of no series at all.
   */
  maxWorkers(params: { controller: string; count: number }): void;
}

/** client-go's workqueue.MetricsProvider, labelled {name, controller} as controller-runtime does. */
export interface QueueMetrics {
  depth(delta: number): void;
  added(): void;
  /** Seconds an item waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker held an item. */
  worked(seconds: number): void;
  retried(): void;
  /** Seconds the oldest item in processing has been there, and the sum over all (sampled). */
  unfinished(params: { oldestSeconds: number; totalSeconds: number }): void;
}

export interface QueueMetricsProvider {
  forQueue(params: { name: string; controller: string }): QueueMetrics;
}

/** The sovereign_* metrics. Labels are bounded: cluster and country names, reason codes. */
export interface SovereignMetrics {
  /** One scheduling decision: its latency, and what it rejected by reason. */
  decision(params: { seconds: number; scheduled: boolean; rejectedReasons: readonly string[] }): void;
  /**
   * Current replicas placed per cluster, from the whole cache (rows for one cluster are
   * summed). A cluster seen before and absent now shows 0 until memberRemoved.
   */
  placements(params: { rows: readonly { cluster: string; country: string; replicas: number }[] }): void;
  /**
   * Seconds since each member's last heartbeat, and whether it is Ready. `ageSeconds`
   * undefined (or not finite): no heartbeat yet, so no age is exported (readiness 0 says it).
   */
  memberHeartbeat(params: { cluster: string; ageSeconds?: number | undefined; ready: boolean }): void;
  /**
   * Every member cluster known now, with its country: creates their counters
   * (guard rejections, failovers) at 0, as client-go does, so queries and alerts
   * read a series before anything happened. Members no longer known: memberRemoved.
   */
  members(params: { rows: readonly { cluster: string; country: string }[] }): void;
  failover(params: { fromCluster: string; country: string }): void;
  intentPublished(params: { cluster: string; seconds: number }): void;
  /** Publish-to-ack latency of an intent as the agent reports it (applied and acked). */
  intentAcknowledged(params: { cluster: string; seconds: number }): void;
  /** A pod refused on a member by the residency guard. */
  guardRejection(params: { cluster: string }): void;
  /** Guard objects the member's agent restored (edited or deleted on the member), as its heartbeat reported them. */
  guardDrift(params: { cluster: string; restored: number }): void;
  /** A member's workload status refused before it was stored (reason: controllers/report-admission.ts ReportDrop). */
  statusReportDropped(params: { reason: string }): void;
  /** A member's heartbeat dropped before it was read (reason: federation/interfaces.ts DroppedReport). */
  heartbeatDropped(params: { reason: string }): void;
  /** One scheduling reconcile of an existing workload. */
  schedulingReconciled(): void;
  /** A workload's status said Ready for the first time, after `count` scheduling reconciles. */
  reconcilesToReady(params: { count: number }): void;
  /** The status aggregator wrote a workload's status, or lost to a newer write. */
  statusWritten(params: { result: "written" | "conflict" }): void;
  /** Call with `unschedulable: false` when the workload is deleted too, or it stays counted. */
  workloadUnschedulable(params: { namespace: string; name: string; unschedulable: boolean }): void;
  /**
   * When each cluster's certifications stop being valid (epoch seconds), from all
   * MemberClusters at once: a certification that is gone disappears from the metric.
   */
  certifications(params: { rows: readonly { cluster: string; certification: string; validUntilSeconds: number }[] }): void;
  /** A member attestation appended to the ledger ("appended"), or refused for that reason. */
  attestation(params: { result: AttestationResult }): void;
  /** A MemberCluster was deleted: forget every series labelled with it. */
  memberRemoved(params: { cluster: string }): void;
}

/** Why an attestation was refused: the bounded `reason` label of sovereign_attestations_dropped_total. */
export const ATTESTATION_DROP_REASONS = ["malformed", "wrong_subject", "unknown_member", "no_key", "bad_signature", "replay"] as const;
export type AttestationResult = "appended" | (typeof ATTESTATION_DROP_REASONS)[number];

/** What an agent did with one intent, the `result` label of sovereign_agent_intents_applied_total. */
export type AgentIntentResult = "applied" | "deleted" | "error" | "invalid";

/** The member agent's own metrics (it serves one cluster, so no cluster label). */
export interface AgentMetrics {
  /** One intent handled: applied (Deployment server-side-applied), deleted (zero or tombstone), error (will be redelivered), invalid (terminated). */
  intentApplied(params: { result: AgentIntentResult; seconds: number }): void;
  /** The Deployments the agent manages, from its whole cache: ready ones have all desired replicas ready. */
  deployments(params: { ready: number; progressing: number }): void;
  heartbeatPublished(): void;
  /** A pod of ours refused by this member's residency guard (seen as a FailedCreate on a ReplicaSet). */
  guardRejection(): void;
}

/** What the manager's /metrics handler serves. */
export interface MetricsEndpoint {
  readonly contentType: string;
  metrics(): Promise<string>;
}

const noop = () => undefined;
export const noopControllerMetrics: ControllerMetrics = { reconciled: noop, reconcileError: noop, activeWorkers: noop, maxWorkers: noop };
export const noopQueueMetrics: QueueMetrics = { depth: noop, added: noop, queued: noop, worked: noop, retried: noop, unfinished: noop };
export const noopQueueMetricsProvider: QueueMetricsProvider = { forQueue: () => noopQueueMetrics };
export const noopSovereignMetrics: SovereignMetrics = {
  decision: noop, placements: noop, memberHeartbeat: noop, members: noop, failover: noop, intentPublished: noop, intentAcknowledged: noop,
  guardRejection: noop, guardDrift: noop, workloadUnschedulable: noop, certifications: noop, memberRemoved: noop,
  schedulingReconciled: noop, reconcilesToReady: noop, statusWritten: noop, attestation: noop, statusReportDropped: noop, heartbeatDropped: noop,
};
export const noopAgentMetrics: AgentMetrics = { intentApplied: noop, deployments: noop, heartbeatPublished: noop, guardRejection: noop };
