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
  /** Current replicas placed per cluster (a gauge set from the whole cache). */
  placements(params: { rows: readonly { cluster: string; country: string; replicas: number }[] }): void;
  /** Seconds since each member's last heartbeat, and whether it is Ready. */
  memberHeartbeat(params: { cluster: string; ageSeconds: number; ready: boolean }): void;
  failover(params: { fromCluster: string; country: string }): void;
  intentPublished(params: { cluster: string; seconds: number }): void;
  /** Publish-to-ack latency of an intent as the agent reports it (applied and acked). */
  intentAcknowledged(params: { cluster: string; seconds: number }): void;
  /** A pod refused on a member by the residency guard. */
  guardRejection(params: { cluster: string }): void;
  workloadUnschedulable(params: { namespace: string; name: string; unschedulable: boolean }): void;
}

const noop = () => undefined;
export const noopControllerMetrics: ControllerMetrics = { reconciled: noop, reconcileError: noop, activeWorkers: noop, maxWorkers: noop };
export const noopQueueMetrics: QueueMetrics = { depth: noop, added: noop, queued: noop, worked: noop, retried: noop, unfinished: noop };
export const noopQueueMetricsProvider: QueueMetricsProvider = { forQueue: () => noopQueueMetrics };
export const noopSovereignMetrics: SovereignMetrics = {
  decision: noop, placements: noop, memberHeartbeat: noop, failover: noop, intentPublished: noop, intentAcknowledged: noop,
  guardRejection: noop, workloadUnschedulable: noop,
};
