/**
 * The narrow interfaces the controllers and the agent depend on, so that neither knows
 * NATS: the control plane publishes intents and audit records and reads reports; the
 * agent reads its intents and publishes reports. Implementations live in nats/.
 */
import type { AuditRecord } from "../gen/sovereign/v1/audit.ts";
import type { Heartbeat } from "../gen/sovereign/v1/heartbeat.ts";
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { WorkloadStatus } from "../gen/sovereign/v1/status.ts";

export type { AuditRecord, Heartbeat, PlacementIntent, WorkloadStatus };

/** Control plane → members. Each call resolves once JetStream acknowledged the message. */
export interface IntentPublisher {
  /** Publishes (or re-publishes: idempotent on intentId) one cluster's intent for one workload. */
  publishIntent(intent: PlacementIntent): Promise<{ intentId: string; duplicate: boolean }>;
  /** Appends to the audit trail (Nats-Msg-Id = recordId, so a retry is stored once). */
  publishAudit(record: AuditRecord): Promise<void>;
}

/** One intent delivered to an agent. Ack only after it was applied. */
export interface IntentDelivery {
  readonly intent: PlacementIntent;
  ack(): Promise<void>;
  /** Redeliver later (after `delayMs`). */
  nak(delayMs?: number): void;
}

/**
 * A member's intents: `latest()` is the newest intent of every workload the stream
 * holds (the resync after a (re)connect), the iterator yields new ones as they come.
 */
export interface IntentSource extends AsyncIterable<IntentDelivery> {
  latest(): Promise<PlacementIntent[]>;
  stop(): Promise<void>;
}

/** Member → control plane. */
export interface ReportPublisher {
  publishHeartbeat(heartbeat: Heartbeat): Promise<void>;
  publishStatus(status: WorkloadStatus): Promise<void>;
}

/** A report as the control plane received it: `receivedAt` is the stream's timestamp, never the sender's clock. */
export interface Received<T> {
  readonly message: T;
  readonly receivedAt: Date;
  /**
   * The subject it arrived on. NATS permissions and accounts decide who may publish
   * there, so the subject (not the payload) says which member sent it; a status without
   * one names no sender and is refused.
   */
  readonly subject?: string;
}

/** A report dropped because its payload does not decode: the subject it came on, and why. */
export interface MalformedReport {
  readonly subject: string;
  readonly reason: string;
}

/**
 * A report (a heartbeat) dropped by the source before the control plane read it: its payload does not decode
 * (Malformed), or it names another cluster than the member whose subject (and so NATS
 * account) it came on (ClusterMismatch).
 */
export interface DroppedReport {
  readonly subject: string;
  readonly reason: "Malformed" | "ClusterMismatch";
  readonly detail: string;
}

/**
 * What the control plane reads of the members: the newest heartbeat of every cluster
 * and the newest status of every (cluster, workload) first, then each new one. No ack:
 * reports are level-based, a missed one is superseded by the next.
 */
export interface ReportSource {
  /** `onDropped` hears of each heartbeat that is never yielded, so the reader counts it. */
  heartbeats(signal: AbortSignal, onDropped?: (dropped: DroppedReport) => void): AsyncIterable<Received<Heartbeat>>;
  /**
   * `onMalformed` hears of each status whose payload does not decode (it is never
   * yielded), so the reader counts it with the other refusals.
   */
  statuses(signal: AbortSignal, onMalformed?: (report: MalformedReport) => void): AsyncIterable<Received<WorkloadStatus>>;
  /**
   * Removes what the stream holds on one status subject (a workload the host no longer
   * has), so the next start does not read it again. Optional: a source without it keeps all.
   */
  discardStatus?(subject: string): Promise<void>;
}
