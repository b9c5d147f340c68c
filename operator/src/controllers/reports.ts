/**
 * The members' reports as the control plane last received them: newest heartbeat per
 * cluster, newest workload status per (workload uid, cluster). Fed from a ReportSource
 * (which starts from the newest of each subject, so a restarted control plane knows
 * them at once); the controllers read it level-based and are told which key changed.
 */
import type { Logger } from "pino";
import type { ConnectionState, Heartbeat, PlacementIntent, ReportSource } from "../federation/index.ts";
import { noopSovereignMetrics } from "../metrics/index.ts";
import type { SovereignMetrics } from "../metrics/index.ts";
import { systemClock } from "../runtime/index.ts";
import type { Clock, EventSource, Runnable } from "../runtime/index.ts";
import { GuardRefusals } from "./guard-refusals.ts";
import { IntentAckTracker } from "./intent-acks.ts";

/** What one member's agent last said about a workload (sov.v1.<cluster>.status.<uid>). */
export interface MemberReport {
  desiredReplicas: number;
  readyReplicas: number;
  observedGeneration: number;
  message: string;
}

/** A member's report about a workload that says something new (its content changed). */
export interface ReportEvent {
  uid: string;
  cluster: string;
  /** What the member said before (undefined: its first report of this workload). */
  previous: MemberReport | undefined;
  report: MemberReport;
}

/**
 * Whether the control plane can hear its members now, and since when: a member's missed
 * heartbeats count only from then (see controllers/membercluster/desired.ts).
 */
export interface HeartbeatFeed {
  connected: boolean;
  since: Date;
}

/** Whether two reports say the same: the agent repeats itself (every pod event, every resync). */
export function sameReport(a: MemberReport | undefined, b: MemberReport): boolean {
  return a !== undefined && a.desiredReplicas === b.desiredReplicas && a.readyReplicas === b.readyReplicas
    && a.observedGeneration === b.observedGeneration && a.message === b.message;
}

export class ReportBook implements Runnable, EventSource<ReportEvent> {
  readonly name = "member-reports";
  readonly needLeaderElection = false;
  readonly #source: ReportSource;
  readonly #log: Logger;
  readonly #heartbeats = new Map<string, { heartbeat: Heartbeat; receivedAt: Date }>();
  readonly #statuses = new Map<string, Map<string, MemberReport>>();
  readonly #onHeartbeat: ((cluster: string) => void)[] = [];
  readonly #onStatus: ((event: ReportEvent) => void)[] = [];
  /** Whether a workload uid is one the host still has; reports of others are not kept. */
  readonly #knows: (uid: string) => boolean;
  readonly #metrics: SovereignMetrics;
  readonly #clock: Clock;
  readonly #acks = new IntentAckTracker();
  readonly #refusals = new GuardRefusals();
  readonly #connection: ConnectionState | undefined;
  #since: Date;

  constructor(params: {
    source: ReportSource; log: Logger; metrics?: SovereignMetrics; clock?: Clock;
    /**
     * The control plane's NATS connection. Without it the feed counts as connected since
     * the book was made (tests that feed it directly).
     */
    connection?: ConnectionState;
    /**
     * Whether the host has a workload with this uid. The status stream keeps the newest
     * report of every workload of the last month, deleted ones included: a restart reads
     * them all, and only the live ones are kept. Default: every uid.
     */
    knows?: (uid: string) => boolean;
  }) {
    this.#source = params.source;
    this.#knows = params.knows ?? (() => true);
    this.#log = params.log;
    this.#metrics = params.metrics ?? noopSovereignMetrics;
    this.#clock = params.clock ?? systemClock;
    this.#connection = params.connection;
    this.#since = this.#clock.now();
    // Cut off, the control plane heard nobody: every member gets a fresh window from the reconnect.
    this.#connection?.onReconnect(() => {
      this.#since = this.#clock.now();
      for (const cluster of this.#heartbeats.keys()) for (const h of this.#onHeartbeat) h(cluster);
    });
  }

  /** Whether members can be heard now, and since when (start-up or the last reconnect). */
  heartbeatFeed(): HeartbeatFeed {
    return { connected: this.#connection?.connected() ?? true, since: this.#since };
  }

  /**
   * Call just before publishing an intent: the member's first status showing it applied
   * gives sovereign_intent_ack_duration_seconds (the agent's own JetStream ack is not
   * visible from here).
   */
  intentPublished(intent: PlacementIntent): void {
    const uid = intent.workload?.uid ?? "";
    if (!uid) return;
    this.#acks.published(
      { uid, cluster: intent.cluster, generation: intent.generation, replicas: intent.replicas, at: this.#clock.now().getTime() },
      this.#statuses.get(uid)?.get(intent.cluster),
    );
  }

  onHeartbeat(handler: (cluster: string) => void): void {
    this.#onHeartbeat.push(handler);
  }

  /** Reports whose content changed (a repeated report is dropped here: nothing to wake). */
  onEvent(handler: (event: ReportEvent) => void): void {
    this.#onStatus.push(handler);
  }

  /** The workload is gone: its reports, pending acks and refusals are dropped. */
  forget(uid: string): void {
    this.#statuses.delete(uid);
    this.#acks.forget(uid);
    this.#refusals.forget(uid);
  }

  /** The member is gone: its heartbeat and every report it sent are dropped. */
  forgetCluster(cluster: string): void {
    this.#heartbeats.delete(cluster);
    for (const [uid, byCluster] of this.#statuses) {
      byCluster.delete(cluster);
      if (byCluster.size === 0) this.#statuses.delete(uid);
    }
    this.#acks.forgetCluster(cluster);
    this.#refusals.forgetCluster(cluster);
  }

  /** Workloads with reports held (for tests and memory checks). */
  get size(): number {
    return this.#statuses.size;
  }

  lastHeartbeat(cluster: string): { heartbeat: Heartbeat; receivedAt: Date } | undefined {
    return this.#heartbeats.get(cluster);
  }

  reportsOf(uid: string): ReadonlyMap<string, MemberReport> {
    return this.#statuses.get(uid) ?? new Map();
  }

  /** Stores a member's report; handlers hear of it only when its content changed. Returns whether it did. */
  receive({ uid, cluster, report }: { uid: string; cluster: string; report: MemberReport }): boolean {
    const byCluster = this.#statuses.get(uid) ?? new Map<string, MemberReport>();
    const previous = byCluster.get(cluster);
    if (sameReport(previous, report)) return false;
    byCluster.set(cluster, report);
    this.#statuses.set(uid, byCluster);
    for (const h of this.#onStatus) {
      try {
        h({ uid, cluster, previous, report });
      } catch (err) {
        this.#log.error({ err, uid, cluster }, "report handler threw");
      }
    }
    return true;
  }

  async start(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#loop(signal, "heartbeats"), this.#loop(signal, "statuses")]);
  }

  async #loop(signal: AbortSignal, kind: "heartbeats" | "statuses"): Promise<void> {
    // A consumer that fails (NATS restarting) is opened again: it starts from the newest of each subject.
    while (!signal.aborted) {
      try {
        if (kind === "heartbeats") {
          for await (const { message, receivedAt } of this.#source.heartbeats(signal)) {
            const had = this.#heartbeats.get(message.cluster);
            if (had && had.receivedAt > receivedAt) continue;
            this.#heartbeats.set(message.cluster, { heartbeat: message, receivedAt });
            for (const h of this.#onHeartbeat) h(message.cluster);
          }
        } else {
          // What the consumer replays on opening (the newest per subject) was sent earlier:
          // it settles what it shows but measures no latency and counts no new refusal.
          const opened = this.#clock.now().getTime();
          for await (const { message, receivedAt } of this.#source.statuses(signal)) {
            const uid = message.workload?.uid ?? "";
            if (!uid || !this.#knows(uid)) continue;
            const replayed = receivedAt.getTime() < opened;
            const seconds = this.#acks.reported({
              uid, cluster: message.cluster, observedGeneration: message.observedGeneration, desiredReplicas: message.desiredReplicas,
              at: this.#clock.now().getTime(), replayed,
            });
            if (seconds !== undefined) this.#metrics.intentAcknowledged({ cluster: message.cluster, seconds });
            if (this.#refusals.observe({ uid, cluster: message.cluster, message: message.message, replayed })) {
              this.#metrics.guardRejection({ cluster: message.cluster });
              this.#log.warn({ cluster: message.cluster, uid, message: message.message }, "a member's residency guard refused a pod");
            }
            this.receive({ uid, cluster: message.cluster, report: {
              desiredReplicas: message.desiredReplicas,
              readyReplicas: message.readyReplicas,
              observedGeneration: message.observedGeneration,
              message: message.message,
            } });
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#log.warn({ err, kind }, "report consumer failed; reopening");
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      // Ended without an error: a reconnect stopped it, to be opened again at once (100 ms: never a busy loop).
      if (signal.aborted) return;
      this.#log.info({ kind }, "report consumer ended (NATS reconnected); reopening");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
