import { Reason } from "../scheduler/index.ts";
import { counter, gauge, histogram } from "./collectors.ts";
import { METRICS } from "./definitions.ts";
import { RuntimeRegistry, type RegistryOptions } from "./runtime-registry.ts";
import { ATTESTATION_DROP_REASONS } from "./types.ts";
import type { AttestationResult, SovereignMetrics } from "./types.ts";

const KNOWN_REASONS: ReadonlySet<string> = new Set(Object.values(Reason));
/** The label for a reason string the scheduler does not define, so a caller's bug cannot grow the series count. */
export const UNKNOWN_REASON = "Unknown";

/**
 * Why the control plane refuses a member's status (controllers/report-admission.ts
 * ReportDrop; a unit test keeps the two lists equal): the only values of the reason label.
 */
export const STATUS_REPORT_DROP_REASONS = ["ClusterMismatch", "UidMismatch", "UnknownWorkload", "NotPlacedOnMember", "Malformed"] as const;
const KNOWN_DROP_REASONS: ReadonlySet<string> = new Set(STATUS_REPORT_DROP_REASONS);
/** Why the control plane drops a member's heartbeat (federation/interfaces.ts DroppedReport): the only values of its reason label. */
export const HEARTBEAT_DROP_REASONS = ["Malformed", "ClusterMismatch"] as const;
const KNOWN_HEARTBEAT_DROP_REASONS: ReadonlySet<string> = new Set(HEARTBEAT_DROP_REASONS);

export interface MetricsRegistryOptions extends RegistryOptions {
  /** Epoch milliseconds; heartbeat ages are computed from it at scrape time. */
  now?: () => number;
}

/** The control plane's metrics: controller-runtime's and the sovereign_* ones. */
export class MetricsRegistry extends RuntimeRegistry implements SovereignMetrics {
  readonly #now: () => number;
  readonly #placements = gauge(this.registry, METRICS.placementsReplicas);
  readonly #rejections = counter(this.registry, METRICS.rejections);
  readonly #decisionDuration = histogram(this.registry, METRICS.decisionDuration);
  readonly #decisions = counter(this.registry, METRICS.decisions);
  readonly #unschedulable = gauge(this.registry, METRICS.workloadsUnschedulable);
  readonly #schedulingReconciles = counter(this.registry, METRICS.schedulingReconciles);
  readonly #reconcilesToReady = histogram(this.registry, METRICS.reconcilesToReady);
  readonly #statusWrites = counter(this.registry, METRICS.statusAggregations);
  readonly #heartbeatAge = gauge(this.registry, METRICS.memberHeartbeatAge, () => this.#collectHeartbeatAges());
  readonly #ready = gauge(this.registry, METRICS.memberReady);
  readonly #certExpiry = gauge(this.registry, METRICS.certificationExpiry);
  readonly #failovers = counter(this.registry, METRICS.failovers);
  readonly #guardRejections = counter(this.registry, METRICS.guardRejections);
  readonly #guardDrift = counter(this.registry, METRICS.guardDrift);
  readonly #reportsDropped = counter(this.registry, METRICS.statusReportsDropped);
  readonly #heartbeatsDropped = counter(this.registry, METRICS.heartbeatsDropped);
  readonly #published = counter(this.registry, METRICS.intentsPublished);
  readonly #publishDuration = histogram(this.registry, METRICS.intentPublishDuration);
  readonly #ackDuration = histogram(this.registry, METRICS.intentAckDuration);
  readonly #attestationsAppended = counter(this.registry, METRICS.attestationsAppended);
  readonly #attestationsDropped = counter(this.registry, METRICS.attestationsDropped);

  /** Epoch ms of each member's last heartbeat: the age is a function of the scrape time, not of the last call. */
  readonly #lastHeartbeat = new Map<string, number>();
  /** Every cluster/country a placement snapshot named, so one that lost its replicas reads 0. */
  readonly #placedOn = new Map<string, { cluster: string; country: string }>();
  /** Label sets of the labelled series that memberRemoved must find by cluster alone. */
  #certLabels: readonly { cluster: string; certification: string }[] = [];
  readonly #failoverLabels = new Map<string, { from_cluster: string; country: string }>();
  /** "namespace/name" of the unschedulable workloads: only their count is exported. */
  readonly #unschedulableKeys = new Set<string>();

  constructor(options: MetricsRegistryOptions = {}) {
    super(options);
    this.#now = options.now ?? Date.now;
    this.#unschedulable.set(0);
    this.#schedulingReconciles.inc(0);
    for (const result of ["written", "conflict"]) this.#statusWrites.inc({ result }, 0);
    this.#attestationsAppended.inc(0);
    for (const reason of ATTESTATION_DROP_REASONS) this.#attestationsDropped.inc({ reason }, 0);
    for (const reason of STATUS_REPORT_DROP_REASONS) this.#reportsDropped.inc({ reason }, 0);
    for (const reason of HEARTBEAT_DROP_REASONS) this.#heartbeatsDropped.inc({ reason }, 0);
  }

  attestation({ result }: { result: AttestationResult }): void {
    if (result === "appended") this.#attestationsAppended.inc();
    else this.#attestationsDropped.inc({ reason: (ATTESTATION_DROP_REASONS as readonly string[]).includes(result) ? result : "malformed" });
  }

  schedulingReconciled(): void {
    this.#schedulingReconciles.inc();
  }

  reconcilesToReady({ count }: { count: number }): void {
    this.#reconcilesToReady.observe(count);
  }

  statusWritten({ result }: { result: "written" | "conflict" }): void {
    this.#statusWrites.inc({ result });
  }

  decision({ seconds, scheduled, rejectedReasons }: { seconds: number; scheduled: boolean; rejectedReasons: readonly string[] }): void {
    this.#decisionDuration.observe(seconds);
    this.#decisions.inc({ result: scheduled ? "scheduled" : "unschedulable" });
    for (const reason of rejectedReasons) this.#rejections.inc({ reason: KNOWN_REASONS.has(reason) ? reason : UNKNOWN_REASON });
  }

  placements({ rows }: { rows: readonly { cluster: string; country: string; replicas: number }[] }): void {
    const totals = new Map<string, number>();
    for (const { cluster, country, replicas } of rows) {
      const key = `${cluster}\u0000${country}`;
      this.#placedOn.set(key, { cluster, country });
      totals.set(key, (totals.get(key) ?? 0) + replicas);
    }
    // Reset first: a country that changed under a cluster name (a deleted and recreated
    // MemberCluster) must not leave its old series behind.
    this.#placements.reset();
    for (const [key, labels] of this.#placedOn) this.#placements.set(labels, totals.get(key) ?? 0);
  }

  memberHeartbeat({ cluster, ageSeconds, ready }: { cluster: string; ageSeconds?: number | undefined; ready: boolean }): void {
    if (ageSeconds !== undefined && Number.isFinite(ageSeconds)) this.#lastHeartbeat.set(cluster, this.#now() - ageSeconds * 1000);
    else {
      // An age of +Inf would make "age > 60 for 1m" alerts read "for +Inf"; no series is the honest answer.
      this.#lastHeartbeat.delete(cluster);
      this.#heartbeatAge.remove({ cluster });
    }
    this.#ready.set({ cluster }, ready ? 1 : 0);
  }

  members({ rows }: { rows: readonly { cluster: string; country: string }[] }): void {
    for (const { cluster, country } of rows) {
      this.#guardRejections.inc({ cluster }, 0);
      this.#guardDrift.inc({ cluster }, 0);
      const labels = { from_cluster: cluster, country };
      this.#failoverLabels.set(`${cluster}\u0000${country}`, labels);
      this.#failovers.inc(labels, 0);
    }
  }

  failover({ fromCluster, country }: { fromCluster: string; country: string }): void {
    const labels = { from_cluster: fromCluster, country };
    this.#failoverLabels.set(`${fromCluster}\u0000${country}`, labels);
    this.#failovers.inc(labels);
  }

  intentPublished({ cluster, seconds }: { cluster: string; seconds: number }): void {
    this.#published.inc({ cluster });
    this.#publishDuration.observe({ cluster }, seconds);
  }

  intentAcknowledged({ cluster, seconds }: { cluster: string; seconds: number }): void {
    this.#ackDuration.observe({ cluster }, seconds);
  }

  guardRejection({ cluster }: { cluster: string }): void {
    this.#guardRejections.inc({ cluster });
  }

  guardDrift({ cluster, restored }: { cluster: string; restored: number }): void {
    if (restored > 0) this.#guardDrift.inc({ cluster }, restored);
  }

  statusReportDropped({ reason }: { reason: string }): void {
    this.#reportsDropped.inc({ reason: KNOWN_DROP_REASONS.has(reason) ? reason : UNKNOWN_REASON });
  }

  heartbeatDropped({ reason }: { reason: string }): void {
    this.#heartbeatsDropped.inc({ reason: KNOWN_HEARTBEAT_DROP_REASONS.has(reason) ? reason : UNKNOWN_REASON });
  }

  workloadUnschedulable({ namespace, name, unschedulable }: { namespace: string; name: string; unschedulable: boolean }): void {
    const key = `${namespace}/${name}`;
    if (unschedulable) this.#unschedulableKeys.add(key);
    else this.#unschedulableKeys.delete(key);
    this.#unschedulable.set(this.#unschedulableKeys.size);
  }

  certifications({ rows }: { rows: readonly { cluster: string; certification: string; validUntilSeconds: number }[] }): void {
    this.#certExpiry.reset();
    this.#certLabels = rows.map(({ cluster, certification }) => ({ cluster, certification }));
    for (const { cluster, certification, validUntilSeconds } of rows) this.#certExpiry.set({ cluster, certification }, validUntilSeconds);
  }

  memberRemoved({ cluster }: { cluster: string }): void {
    this.#lastHeartbeat.delete(cluster);
    this.#heartbeatAge.remove({ cluster });
    this.#ready.remove({ cluster });
    for (const [key, labels] of this.#placedOn) {
      if (labels.cluster !== cluster) continue;
      this.#placedOn.delete(key);
      this.#placements.remove(labels);
    }
    for (const labels of this.#certLabels) if (labels.cluster === cluster) this.#certExpiry.remove(labels);
    this.#certLabels = this.#certLabels.filter((labels) => labels.cluster !== cluster);
    for (const [key, labels] of this.#failoverLabels) {
      if (labels.from_cluster !== cluster) continue;
      this.#failoverLabels.delete(key);
      this.#failovers.remove(labels);
    }
    for (const metric of [this.#guardRejections, this.#guardDrift, this.#published, this.#publishDuration, this.#ackDuration]) metric.remove({ cluster });
  }

  #collectHeartbeatAges(): void {
    const now = this.#now();
    for (const [cluster, at] of this.#lastHeartbeat) this.#heartbeatAge.set({ cluster }, Math.max(0, (now - at) / 1000));
  }
}
