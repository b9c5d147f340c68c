import { METRICS as M } from "../../../operator/src/metrics/index.ts";
import type { RowSpec, VariableSpec } from "./grafana.ts";
import { increaseOverRange, quantile, rate, series } from "./selectors.ts";

/**
 * What the dashboard shows, row by row. Every metric name comes from
 * operator/src/metrics/definitions.ts, so a renamed metric changes the generated JSON
 * (and `hack/gen-dashboard.ts --check` fails until it is regenerated), and a removed one
 * breaks the typecheck.
 */

const SUFFIX_DAYS = "suffix: days";
/** The control plane process's own matchers (selectors.ts), for a histogram's _sum and _count. */
const PROCESS_MATCHERS = 'job=~"$job", namespace=~"$namespace", cluster=~"$cluster"';

export const VARIABLES: readonly VariableSpec[] = [
  {
    name: "cluster",
    label: "Cluster",
    description: "The cluster a process runs in, for a Prometheus that scrapes several clusters (its `cluster` label). A single-cluster Prometheus has none: keep All.",
    query: `label_values(${M.reconcileTotal.name}, cluster)`,
  },
  {
    name: "job",
    label: "Job",
    description: "The scrape job of the control plane and of the member agents.",
    query: `label_values({__name__=~"${M.reconcileTotal.name}|${M.agentHeartbeats.name}", cluster=~"$cluster"}, job)`,
  },
  {
    name: "namespace",
    label: "Namespace",
    description: "The namespace the control plane and agents run in (sovereign-system by default).",
    query: `label_values({__name__=~"${M.reconcileTotal.name}|${M.agentHeartbeats.name}", cluster=~"$cluster", job=~"$job"}, namespace)`,
  },
  {
    name: "member",
    label: "Member cluster",
    description: "Member clusters (MemberCluster names) the control plane knows: filters the per-member panels.",
    query: `label_values(${M.memberReady.name}{job=~"$job", namespace=~"$namespace"}, cluster)`,
  },
];

const QUEUE_BY = ["controller"];

export const ROWS: readonly RowSpec[] = [
  {
    title: "Residency at a glance",
    panels: [
      {
        kind: "stat", title: "Members NotReady", unit: "short", width: 6, height: 5,
        description: "Member clusters the control plane currently considers NotReady (their agent's heartbeats stopped arriving in time). Their replicas are being re-placed on other compliant members; with none left in the allowed countries those workloads become unschedulable. 0 is healthy. See the Members row for which one.",
        queries: [{ expr: `count(${series(M.memberReady)} == 0) or vector(0)`, legend: "NotReady" }],
        thresholds: [{ color: "green", value: null }, { color: "red", value: 1 }],
      },
      {
        kind: "stat", title: "Workloads unschedulable", unit: "short", width: 6, height: 5,
        description: "SovereignWorkloads whose last scheduling decision placed nothing or not all replicas, because not enough member clusters satisfy their residency (country, jurisdiction, certifications, extraterritorial exposure, Ready). The control plane never relaxes residency to place them: add or repair a compliant member. `kubectl get swl -A` and `kubectl sovereign explain <workload>` say which and why.",
        queries: [{ expr: `sum(${series(M.workloadsUnschedulable)})`, legend: "unschedulable" }],
        thresholds: [{ color: "green", value: null }, { color: "red", value: 1 }],
      },
      {
        kind: "stat", title: "Guard rejections (time range)", unit: "short", width: 6, height: 5,
        description: "Pods a member's residency guard (ValidatingAdmissionPolicy) refused during the selected time range, as reported to the control plane: something tried to run sovereign data on a member its data class does not allow. Every non-zero value deserves an investigation on that member (who created the pod, with what labels).",
        queries: [{ expr: `sum(${increaseOverRange(M.guardRejections)}) or vector(0)`, legend: "rejections" }],
        thresholds: [{ color: "green", value: null }, { color: "red", value: 1 }],
      },
      {
        kind: "stat", title: "Failovers (time range)", unit: "short", width: 6, height: 5,
        description: "Replicas re-placed away from an unavailable member cluster during the selected time range, always onto a cluster the workload's residency allows. Non-zero means a member was NotReady; see Failovers by cluster left.",
        queries: [{ expr: `sum(${increaseOverRange(M.failovers)}) or vector(0)`, legend: "failovers" }],
        thresholds: [{ color: "green", value: null }, { color: "orange", value: 1 }],
      },
    ],
  },
  {
    title: "Control plane reconcilers",
    panels: [
      {
        kind: "timeseries", title: "Reconcile rate by controller and result", unit: "ops", width: 8,
        description: "Reconciliations per second per controller, split by result: success, error (retried with backoff), requeue and requeue_after (a planned revisit, e.g. at a certification's expiry). A sustained error share means the controller cannot reach its goal; see Reconcile errors.",
        queries: [{ expr: `sum by (controller, result) (${rate(M.reconcileTotal)})`, legend: "{{controller}} {{result}}" }],
      },
      {
        kind: "timeseries", title: "Reconcile errors", unit: "ops", width: 8,
        description: "Reconcile errors per second per controller. Retryable ones are retried with per-key exponential backoff; terminal ones (the object itself must change, e.g. an invalid spec) are not retried and are shown separately. Look at the controller's logs (JSON, field `controller`) for the message.",
        queries: [
          { expr: `sum by (controller) (${rate(M.reconcileErrors)})`, legend: "{{controller}} errors" },
          { expr: `sum by (controller) (${rate(M.terminalReconcileErrors)})`, legend: "{{controller}} terminal" },
        ],
      },
      {
        kind: "timeseries", title: "Reconcile p99 latency", unit: "s", width: 8,
        description: "99th percentile of the time one reconciliation takes, per controller. Seconds here usually mean a slow API server or NATS; the scheduling decision itself is in-process arithmetic (see Scheduling decision p99).",
        queries: [{ expr: quantile({ q: 0.99, def: M.reconcileTime, by: ["controller"] }), legend: "{{controller}}" }],
      },
      {
        kind: "timeseries", title: "Workers in use", unit: "short", width: 8, min: 0,
        description: "Reconcile workers busy per controller, against the configured maximum (--workers). Busy at the maximum for long means the controller is saturated and keys wait in its queue.",
        queries: [
          { expr: `sum by (controller) (${series(M.activeWorkers)})`, legend: "{{controller}} active" },
          { expr: `sum by (controller) (${series(M.maxConcurrentReconciles)})`, legend: "{{controller}} max" },
        ],
      },
    ],
  },
  {
    title: "Work queues",
    panels: [
      {
        kind: "timeseries", title: "Workqueue depth", unit: "short", width: 6, min: 0,
        description: "Keys waiting for a worker, per controller queue. A queue that keeps growing means reconciles are slower than the changes arriving, or stuck (see Work duration p99 and Workers in use).",
        queries: [{ expr: `sum by (controller) (${series(M.workqueueDepth)})`, legend: "{{controller}}" }],
      },
      {
        kind: "timeseries", title: "Queue wait p99", unit: "s", width: 6,
        description: "99th percentile of how long a key waits in the queue before a worker picks it up. This is the delay between a change (a member going NotReady, a scaled workload) and the control plane acting on it.",
        queries: [{ expr: quantile({ q: 0.99, def: M.workqueueQueueDuration, by: QUEUE_BY }), legend: "{{controller}}" }],
      },
      {
        kind: "timeseries", title: "Work duration p99", unit: "s", width: 6,
        description: "99th percentile of how long processing one key from the queue takes (the whole reconcile, including API and NATS calls).",
        queries: [{ expr: quantile({ q: 0.99, def: M.workqueueWorkDuration, by: QUEUE_BY }), legend: "{{controller}}" }],
      },
      {
        kind: "timeseries", title: "Retries", unit: "ops", width: 6,
        description: "Keys re-queued with backoff after a failed reconcile, per second per controller. It follows the error rate; each retry of the same key waits longer (exponential backoff).",
        queries: [{ expr: `sum by (controller) (${rate(M.workqueueRetries)})`, legend: "{{controller}}" }],
      },
    ],
  },
  {
    title: "Placement",
    panels: [
      {
        kind: "timeseries", title: "Placements by country", unit: "short", width: 8, stack: true, min: 0,
        description: "Replicas the control plane places, summed per country of the member clusters holding them (stacked). This is where sovereign data runs: a country appearing here that a data class does not allow would be a residency breach (the scheduler and each member's guard prevent it).",
        queries: [{ expr: `sum by (country) (${series(M.placementsReplicas)})`, legend: "{{country}}" }],
      },
      {
        kind: "bargauge", title: "Placements by cluster", unit: "short", width: 8, min: 0,
        description: "Replicas placed on each member cluster now, with its country. A member at 0 holds none (NotReady, not compliant for any workload, or not needed).",
        queries: [{ expr: `sum by (cluster, country) (${series(M.placementsReplicas)})`, legend: "{{cluster}} ({{country}})" }],
      },
      {
        kind: "timeseries", title: "Rejections by reason", unit: "ops", width: 8,
        description: "Member clusters rejected by scheduling decisions per second, by reason code (CountryNotAllowed, JurisdictionNotAllowed, MissingCertification, CertificationExpired, ExtraterritorialExposure, NotReady, ...). Rejections are normal (most clusters do not fit most data classes); a reason that suddenly rises, such as CertificationExpired or NotReady, is the cause to chase when workloads become unschedulable.",
        queries: [{ expr: `sum by (reason) (${rate(M.rejections)})`, legend: "{{reason}}" }],
      },
      {
        kind: "timeseries", title: "Scheduling decisions by result", unit: "ops", width: 12,
        description: "Scheduling decisions per second: scheduled (all replicas placed) or unschedulable (no compliant cluster, or not enough of them).",
        queries: [{ expr: `sum by (result) (${rate(M.decisions)})`, legend: "{{result}}" }],
      },
      {
        kind: "timeseries", title: "Scheduling reconciles per workload to Ready", unit: "short", width: 12, min: 0,
        description: "Scheduling reconciles a workload took from its first one until its status first said Ready: the mean and the 90th percentile since the control plane started (each workload is observed once, so a rate over a window is empty whenever no new workload turned Ready in it). 1 or 2 is healthy; more means something wakes the scheduler for nothing (its own writes' echoes, unchanged member reports).",
        queries: [
          { expr: `sum(${M.reconcilesToReady.name}_sum{${PROCESS_MATCHERS}}) / sum(${M.reconcilesToReady.name}_count{${PROCESS_MATCHERS}})`, legend: "mean" },
          { expr: `histogram_quantile(0.9, sum by (le) (${M.reconcilesToReady.name}_bucket{${PROCESS_MATCHERS}}))`, legend: "p90" },
        ],
      },
      {
        kind: "timeseries", title: "Scheduling reconciles and status writes", unit: "ops", width: 12,
        description: "Scheduling reconciles per second (each runs the decision), and status writes of the status aggregator per second by result: written (member readiness merged without scheduling) or conflict (a newer decision came first; merged again on it).",
        queries: [
          { expr: `sum(${rate(M.schedulingReconciles)})`, legend: "scheduling reconciles" },
          { expr: `sum by (result) (${rate(M.statusAggregations)})`, legend: "status {{result}}" },
        ],
      },
      {
        kind: "timeseries", title: "Scheduling decision p99", unit: "s", width: 12,
        description: "99th percentile of the time the residency scheduler takes for one workload's decision (filter, score, assign), in process. It grows with the number of member clusters.",
        queries: [{ expr: quantile({ q: 0.99, def: M.decisionDuration, by: [] }), legend: "p99" }],
      },
    ],
  },
  {
    title: "Members",
    panels: [
      {
        kind: "timeseries", title: "Heartbeat age per member", unit: "s", width: 12, thresholdLine: true, min: 0,
        description: "Seconds since each member's agent last sent a heartbeat, as the control plane sees it. It saws between 0 and the heartbeat interval (5 s by default) while healthy and climbs steadily when the agent, its NATS link or the member is down; past interval × misses (15 s by default) the member is NotReady. The red line is that default.",
        queries: [{ expr: `max by (cluster) (${series(M.memberHeartbeatAge)})`, legend: "{{cluster}}" }],
        thresholds: [{ color: "green", value: null }, { color: "red", value: 15 }],
      },
      {
        kind: "state-timeline", title: "Member readiness", unit: "short", width: 12,
        description: "Ready or NotReady per member cluster over time, as the control plane decided it from heartbeats. A NotReady member gets no new replicas and its replicas fail over to compliant members in the same allowed countries.",
        queries: [{ expr: `min by (cluster) (${series(M.memberReady)})`, legend: "{{cluster}}" }],
        mappings: { "0": { text: "NotReady", color: "red" }, "1": { text: "Ready", color: "green" } },
      },
      {
        kind: "timeseries", title: "Failovers by cluster left", unit: "short", width: 12,
        description: "Replicas re-placed away from an unavailable member, per interval, by the cluster they left and its country. Failover never leaves the workload's allowed countries: with no compliant cluster left, replicas stay unplaced (Workloads unschedulable) rather than move.",
        queries: [{ expr: `sum by (from_cluster, country) (increase(${series(M.failovers)}[$__rate_interval]))`, legend: "{{from_cluster}} ({{country}})" }],
      },
      {
        kind: "bargauge", title: "Certifications: days left", unit: SUFFIX_DAYS, width: 12,
        description: "Days until each member's certification (SecNumCloud, HDS, C5, ...) stops being valid, from its MemberCluster's validUntil. At 0 the certification stops counting: workloads that require it leave that member at that instant. Red under 30 days (the alert's threshold), orange under 90: renew the certification and update validUntil.",
        queries: [{ expr: `sort(min by (cluster, certification) ((${series(M.certificationExpiry)} - time()) / 86400))`, legend: "{{cluster}} {{certification}}" }],
        thresholds: [{ color: "red", value: null }, { color: "orange", value: 30 }, { color: "green", value: 90 }],
      },
    ],
  },
  {
    title: "Federation protocol (NATS JetStream)",
    panels: [
      {
        kind: "timeseries", title: "Intents published per member", unit: "ops", width: 8,
        description: "Placement intents the control plane published to each member's JetStream subject per second. Intents are sent only when a member's share of a workload changes, so this is quiet in steady state.",
        queries: [{ expr: `sum by (cluster) (${rate(M.intentsPublished)})`, legend: "{{cluster}}" }],
      },
      {
        kind: "timeseries", title: "Intent publish p99", unit: "s", width: 8,
        description: "99th percentile of the time from publishing an intent until JetStream stored it (the stream's ack), per member. High values point at the NATS server or its disk (the audit stream syncs every write).",
        queries: [{ expr: quantile({ q: 0.99, def: M.intentPublishDuration, by: ["cluster"] }), legend: "{{cluster}}" }],
      },
      {
        kind: "timeseries", title: "Intent publish-to-ack p99", unit: "s", width: 8,
        description: "99th percentile of the time from publishing an intent until the member's agent applied it (its Deployment) and acknowledged it, per member. This is how long a placement change takes to reach the member; a member that was disconnected shows its backlog here.",
        queries: [{ expr: quantile({ q: 0.99, def: M.intentAckDuration, by: ["cluster"] }), legend: "{{cluster}}" }],
      },
      {
        kind: "timeseries", title: "Member attestations into the ledger", unit: "ops", width: 24,
        description: "Member attestations (what runs on each member, signed by the member's own NATS key) the control plane appended to the audit ledger per second, and those it dropped by reason: malformed, wrong_subject, unknown_member, no_key, bad_signature, replay. Any drop is a member saying something the host cannot verify, or someone speaking for it; none appended while agents run means the leader is not consuming them.",
        queries: [
          { expr: `sum(${rate(M.attestationsAppended)})`, legend: "appended" },
          { expr: `sum by (reason) (${rate(M.attestationsDropped)})`, legend: "dropped {{reason}}" },
        ],
      },
    ],
  },
  {
    title: "Member agents",
    panels: [
      {
        kind: "timeseries", title: "Guard rejections and restores by member", unit: "short", width: 8,
        description: "Pods refused by each member's residency guard per interval: as reported to the control plane (per member cluster), and as counted by each member's agent. Any value is a pod that asked to run sovereign data where its data class forbids it; find it with the member's ReplicaSet FailedCreate events. Restored: the guard's own objects (parameter, policies, bindings) found edited or deleted on the member and put back by its agent; someone on the member tampered with the guard (see the MemberCluster's GuardDriftRestored Events).",
        queries: [
          { expr: `sum by (cluster) (increase(${series(M.guardRejections)}[$__rate_interval]))`, legend: "{{cluster}} (reported)" },
          { expr: `sum by (cluster) (increase(${series(M.agentGuardRejections)}[$__rate_interval]))`, legend: "{{cluster}} (agent)" },
          { expr: `sum by (cluster) (increase(${series(M.guardDrift)}[$__rate_interval]))`, legend: "{{cluster}} (guard restored)" },
        ],
      },
      {
        kind: "timeseries", title: "Intents applied by member and result", unit: "ops", width: 8,
        description: "Intents each member's agent handled per second: applied, deleted (zero replicas or workload gone), error (will be redelivered) and invalid (dropped, logged). Errors mean the agent cannot write its Deployments on the member API server.",
        queries: [{ expr: `sum by (cluster, result) (${rate(M.agentIntentsApplied)})`, legend: "{{cluster}} {{result}}" }],
      },
      {
        kind: "timeseries", title: "Intent apply p99 per member", unit: "s", width: 8,
        description: "99th percentile of the time a member's agent takes to apply or delete one intent's Deployment on its member API server.",
        queries: [{ expr: quantile({ q: 0.99, def: M.agentIntentApplyDuration, by: ["cluster"] }), legend: "{{cluster}}" }],
      },
      {
        kind: "timeseries", title: "Agent Deployments by state", unit: "short", width: 12, stack: true, min: 0,
        description: "Deployments each member's agent manages (one per workload placed there): ready (all replicas ready) or progressing. Progressing for long on a member means pods cannot start there (capacity, image, or a guard refusal).",
        queries: [{ expr: `sum by (cluster, state) (${series(M.agentDeployments)})`, legend: "{{cluster}} {{state}}" }],
      },
      {
        kind: "timeseries", title: "Agent heartbeats sent", unit: "ops", width: 12,
        description: "Heartbeats each agent published per second (one per heartbeat interval, 0.2/s at 5 s). An agent that sends but whose member still shows a growing heartbeat age has a broken link to the control plane.",
        queries: [{ expr: `sum by (cluster) (${rate(M.agentHeartbeats)})`, legend: "{{cluster}}" }],
      },
      {
        kind: "timeseries", title: "Member reports refused by reason", unit: "ops", width: 24,
        description: "Workload statuses and heartbeats from members that the control plane refused before reading them, per second. Statuses: UnknownWorkload (no such workload on the host), NotPlacedOnMember (the sender does not run it), UidMismatch or ClusterMismatch (the payload names another workload or member than its subject), Malformed (the payload does not decode). Heartbeats: Malformed or ClusterMismatch, likewise. A trickle of NotPlacedOnMember right after a workload moves is normal; a steady rate is a misbehaving or compromised agent: see the control plane's log for the member.",
        queries: [
          { expr: `sum by (reason) (${rate(M.statusReportsDropped)})`, legend: "status {{reason}}" },
          { expr: `sum by (reason) (${rate(M.heartbeatsDropped)})`, legend: "heartbeat {{reason}}" },
        ],
      },
    ],
  },
];
