/**
 * Every metric the operator exports, defined once. The controller_runtime_* and
 * workqueue_* names, labels and buckets are controller-runtime's
 * (pkg/internal/controller/metrics, pkg/metrics/workqueue.go), so the dashboards and
 * alerts written for Go operators work unchanged. The sovereign_* labels are bounded:
 * cluster and country names, certification names, reason codes, results; never a
 * workload's name or uid.
 */

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds of a histogram's buckets, ascending. */
  readonly buckets?: readonly number[];
}

/** controller-runtime's reconcile-time buckets: 5 ms to 60 s. */
export const RECONCILE_TIME_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
  1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/**
 * client-go's ExponentialBuckets(10e-9, 10, 12): 10 ns to 1000 s. Parsed from decimal
 * literals rather than multiplied out, so the `le` labels read 1e-07, not 1.0000000000000001e-07.
 */
export const WORKQUEUE_BUCKETS: readonly number[] = Array.from({ length: 12 }, (_, i) => Number(`1e${i - 8}`));

/** A scheduling decision is in-process arithmetic: 100 µs to 2.5 s. */
const DECISION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Reconciles per workload: 1 is the least a workload can take. */
const RECONCILES_TO_READY_BUCKETS: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50];
/** One JetStream publish, until the stream's ack: 1 ms to 10 s. */
const PUBLISH_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Publish until a member has applied and acked: a NATS hop plus a server-side apply, or a long disconnection. */
const ACK_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const METRICS = {
  // ---- controller-runtime ----
  reconcileTotal: {
    name: "controller_runtime_reconcile_total", type: "counter", labelNames: ["controller", "result"],
    help: "Total number of reconciliations per controller, by result (success, error, requeue, requeue_after).",
  },
  reconcileErrors: {
    name: "controller_runtime_reconcile_errors_total", type: "counter", labelNames: ["controller"],
    help: "Total number of reconciliation errors per controller. A rising rate means the controller keeps failing and retrying.",
  },
  terminalReconcileErrors: {
    name: "controller_runtime_terminal_reconcile_errors_total", type: "counter", labelNames: ["controller"],
    help: "Total number of terminal reconciliation errors per controller: errors that retrying cannot fix (the object needs a change).",
  },
  reconcileTime: {
    name: "controller_runtime_reconcile_time_seconds", type: "histogram", labelNames: ["controller"], buckets: RECONCILE_TIME_BUCKETS,
    help: "Length of time per reconciliation per controller.",
  },
  activeWorkers: {
    name: "controller_runtime_active_workers", type: "gauge", labelNames: ["controller"],
    help: "Number of currently used workers per controller. Equal to max_concurrent_reconciles for long means the controller is saturated.",
  },
  maxConcurrentReconciles: {
    name: "controller_runtime_max_concurrent_reconciles", type: "gauge", labelNames: ["controller"],
    help: "Maximum number of concurrent reconciles per controller (its worker count).",
  },

  // ---- client-go workqueue, as controller-runtime labels it ----
  workqueueDepth: {
    name: "workqueue_depth", type: "gauge", labelNames: ["name", "controller"],
    help: "Current depth of workqueue: keys waiting for a worker.",
  },
  workqueueAdds: {
    name: "workqueue_adds_total", type: "counter", labelNames: ["name", "controller"],
    help: "Total number of adds handled by workqueue.",
  },
  workqueueQueueDuration: {
    name: "workqueue_queue_duration_seconds", type: "histogram", labelNames: ["name", "controller"], buckets: WORKQUEUE_BUCKETS,
    help: "How long in seconds an item stays in workqueue before being requested.",
  },
  workqueueWorkDuration: {
    name: "workqueue_work_duration_seconds", type: "histogram", labelNames: ["name", "controller"], buckets: WORKQUEUE_BUCKETS,
    help: "How long in seconds processing an item from workqueue takes.",
  },
  workqueueRetries: {
    name: "workqueue_retries_total", type: "counter", labelNames: ["name", "controller"],
    help: "Total number of retries handled by workqueue (keys re-added with backoff after a failure).",
  },
  workqueueUnfinishedWork: {
    name: "workqueue_unfinished_work_seconds", type: "gauge", labelNames: ["name", "controller"],
    help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck workers; the rate at which it grows is the number of stuck workers.",
  },
  workqueueLongestRunningProcessor: {
    name: "workqueue_longest_running_processor_seconds", type: "gauge", labelNames: ["name", "controller"],
    help: "How many seconds has the longest running processor for workqueue been running.",
  },

  // ---- control plane: placement and scheduling ----
  placementsReplicas: {
    name: "sovereign_placements_replicas", type: "gauge", labelNames: ["cluster", "country"],
    help: "Replicas the control plane currently places on each member cluster, with the cluster's country. 0 for a known cluster holding none.",
  },
  rejections: {
    name: "sovereign_rejections_total", type: "counter", labelNames: ["reason"],
    help: "Clusters rejected by scheduling decisions, by reason code (CountryNotAllowed, MissingCertification, NotReady, ...). One decision counts each rejected cluster's every reason.",
  },
  decisionDuration: {
    name: "sovereign_scheduling_decision_duration_seconds", type: "histogram", labelNames: [], buckets: DECISION_BUCKETS,
    help: "Time the scheduler took for one workload's decision (filter, score, assign).",
  },
  decisions: {
    name: "sovereign_scheduling_decisions_total", type: "counter", labelNames: ["result"],
    help: "Scheduling decisions, by result: scheduled (replicas placed) or unschedulable (no compliant cluster, or not enough of them).",
  },
  schedulingReconciles: {
    name: "sovereign_scheduling_reconciles_total", type: "counter", labelNames: [],
    help: "Scheduling reconciles of existing SovereignWorkloads (each one runs the decision). Divided by sovereign_scheduling_reconciles_to_ready's count it is the reconciles per workload; the echo of the controller's own writes and unchanged member reports do not cause one.",
  },
  reconcilesToReady: {
    name: "sovereign_scheduling_reconciles_to_ready", type: "histogram", labelNames: [], buckets: RECONCILES_TO_READY_BUCKETS,
    help: "Scheduling reconciles each SovereignWorkload took, counted by this control plane, from its first reconcile until its status first said Ready (observed once per workload). _sum / _count is the mean reconciles per workload on its way to Running.",
  },
  statusAggregations: {
    name: "sovereign_status_writes_total", type: "counter", labelNames: ["result"],
    help: "SovereignWorkload status writes by the status aggregator (member readiness merged without scheduling), by result: written, or conflict (a newer write came first; retried on the new version).",
  },
  workloadsUnschedulable: {
    name: "sovereign_workloads_unschedulable", type: "gauge", labelNames: [],
    help: "Number of SovereignWorkloads whose last decision placed nothing or not all replicas: no member satisfies their residency.",
  },

  // ---- control plane: members ----
  memberHeartbeatAge: {
    name: "sovereign_member_heartbeat_age_seconds", type: "gauge", labelNames: ["cluster"],
    help: "Seconds since the member cluster's agent last sent a heartbeat, computed at scrape time. Grows steadily when the agent or its link is down.",
  },
  memberReady: {
    name: "sovereign_member_ready", type: "gauge", labelNames: ["cluster"],
    help: "1 if the member cluster is Ready (heartbeats on time), 0 if NotReady.",
  },
  certificationExpiry: {
    name: "sovereign_certification_expiry_timestamp_seconds", type: "gauge", labelNames: ["cluster", "certification"],
    help: "When each member cluster's certification (SecNumCloud, HDS, C5, ...) stops being valid, as a Unix timestamp. Workloads requiring it leave the cluster at that instant.",
  },
  failovers: {
    name: "sovereign_failovers_total", type: "counter", labelNames: ["from_cluster", "country"],
    help: "Replicas re-placed away from an unavailable member cluster, by the cluster they left and its country.",
  },
  guardRejections: {
    name: "sovereign_guard_rejections_total", type: "counter", labelNames: ["cluster"],
    help: "Pods refused by a member's residency guard, as reported to the control plane: something tried to run sovereign data where it may not go.",
  },
  guardDrift: {
    name: "sovereign_guard_drift_total", type: "counter", labelNames: ["cluster"],
    help: "Objects of a member's residency guard (its parameter ConfigMap, admission policies, bindings) found edited or deleted on the member and restored by its agent, as its heartbeats report: someone on the member tampered with the guard.",
  },
  statusReportsDropped: {
    name: "sovereign_status_reports_dropped_total", type: "counter", labelNames: ["reason"],
    help: "Member workload statuses the control plane refused before storing them, by reason: ClusterMismatch or UidMismatch (the payload names another cluster or workload than its subject), UnknownWorkload (no such workload on the host), NotPlacedOnMember (the workload does not run on the sender), Malformed (the payload is not a WorkloadStatus). A steady rate from one member is a misbehaving or compromised agent.",
  },

  heartbeatsDropped: {
    name: "sovereign_heartbeats_dropped_total", type: "counter", labelNames: ["reason"],
    help: "Member heartbeats the control plane dropped before reading them, by reason: Malformed (the payload is not a Heartbeat) or ClusterMismatch (it names another cluster than the member it came from). The member's state is judged on its genuine heartbeats only; a steady rate is a misbehaving or compromised agent.",
  },

  // ---- control plane: federation protocol ----
  intentsPublished: {
    name: "sovereign_intents_published_total", type: "counter", labelNames: ["cluster"],
    help: "Placement intents published to each member cluster over NATS JetStream.",
  },
  intentPublishDuration: {
    name: "sovereign_intent_publish_duration_seconds", type: "histogram", labelNames: ["cluster"], buckets: PUBLISH_BUCKETS,
    help: "Time to publish one intent until JetStream stored it, per member cluster.",
  },
  attestationsAppended: {
    name: "sovereign_attestations_appended_total", type: "counter", labelNames: [],
    help: "Member attestations (signed by the member's own key) the control plane appended to the audit ledger.",
  },
  attestationsDropped: {
    name: "sovereign_attestations_dropped_total", type: "counter", labelNames: ["reason"],
    help: "Member attestations the control plane refused to append, by reason: malformed, wrong_subject (the subject's member is not the attestation's), unknown_member (no MemberCluster), no_key (no declared member key), bad_signature, replay (a seq not after the last appended).",
  },
  intentAckDuration: {
    name: "sovereign_intent_ack_duration_seconds", type: "histogram", labelNames: ["cluster"], buckets: ACK_BUCKETS,
    help: "Time from publishing an intent until the member's agent applied and acknowledged it, per member cluster.",
  },

  // ---- member agent ----
  agentIntentsApplied: {
    name: "sovereign_agent_intents_applied_total", type: "counter", labelNames: ["result"],
    help: "Intents this member's agent handled, by result: applied, deleted (zero replicas or tombstone), error (redelivered later), invalid (dropped).",
  },
  agentIntentApplyDuration: {
    name: "sovereign_agent_intent_apply_duration_seconds", type: "histogram", labelNames: [], buckets: PUBLISH_BUCKETS,
    help: "Time this member's agent took to apply or delete one intent's Deployment on the member API server.",
  },
  agentDeployments: {
    name: "sovereign_agent_deployments", type: "gauge", labelNames: ["state"],
    help: "Deployments this member's agent manages, by state: ready (all desired replicas ready) or progressing.",
  },
  agentHeartbeats: {
    name: "sovereign_agent_heartbeats_published_total", type: "counter", labelNames: [],
    help: "Heartbeats this member's agent published to the control plane.",
  },
  agentGuardRejections: {
    name: "sovereign_agent_guard_rejections_total", type: "counter", labelNames: [],
    help: "Pods of sovereign workloads refused on this member by its residency guard.",
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;
