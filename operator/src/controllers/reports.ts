/**
 * The members' reports as the control plane last received them: newest heartbeat per
 * cluster, newest workload status per (workload uid, cluster). Fed from a ReportSource
 * (which starts from the newest of each subject, so a restarted control plane knows
 * them at once); the controllers read it level-based and are told which key changed.
 *
 * A member is not trusted to say what it runs: a status is taken only for a workload the
 * host has and has placed on the sender (report-admission.ts), so what the book holds is
 * bounded by the live state (workloads × the members each is placed on), whatever a
 * member publishes. Refused statuses are counted, not stored, and not logged one by one
 * (a flood would otherwise flood the logs too).
 */
import type { Logger } from "pino";
import { parseSubject } from "../federation/index.ts";
import type { ConnectionState, DroppedReport, Heartbeat, MalformedReport, PlacementIntent, Received, ReportSource, WorkloadStatus } from "../federation/index.ts";
import { noopSovereignMetrics } from "../metrics/index.ts";
import type { SovereignMetrics } from "../metrics/index.ts";
import { systemClock } from "../runtime/index.ts";
import type { Clock, EventSource, Runnable } from "../runtime/index.ts";
import { GuardRefusals } from "./guard-refusals.ts";
import { IntentAckTracker } from "./intent-acks.ts";
import { ReportDrop, reportAdmission } from "./report-admission.ts";

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

/** Whether two reports say the same: the agent repeats itself (every pod event, every resync). */
export function sameReport(a: MemberReport | undefined, b: MemberReport): boolean {
  return a !== undefined && a.desiredReplicas === b.desiredReplicas && a.readyReplicas === b.readyReplicas
    && a.observedGeneration === b.observedGeneration && a.message === b.message;
}

/**
 * Whether the control plane can hear its members now, and since when: a member's missed
 * heartbeats count only from then (see controllers/membercluster/desired.ts).
 */
export interface HeartbeatFeed {
  connected: boolean;
  since: Date;
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
  readonly #placedOn: (uid: string) => ReadonlySet<string> | undefined;
  /**
   * Clusters an intent was published to that the workload cache did not list yet, per
   * workload uid. The reconciler writes status.placements before it publishes an intent
   * to a new cluster, but the informer may show that write after the member's first
   * report arrives: without this, that report would be dropped, and the agent does not
   * repeat a status that did not change. A mark lasts until the cache lists the cluster
   * (from then on the placements decide) or the workload goes.
   */
  readonly #announced = new Map<string, Set<string>>();
  readonly #metrics: SovereignMetrics;
  readonly #clock: Clock;
  readonly #acks = new IntentAckTracker();
  readonly #refusals = new GuardRefusals();
  readonly #dropLog = new Map<string, number>();
  readonly #connection: ConnectionState | undefined;
  #since: Date;
  readonly #discards: string[] = [];
  #discarding: Promise<void> | undefined;

  constructor(params: {
    source: ReportSource; log: Logger; metrics?: SovereignMetrics; clock?: Clock;
    /**
     * The control plane's NATS connection. Without it the feed counts as connected since
     * the book was made (tests that feed it directly).
     */
    connection?: ConnectionState;
    /**
     * The clusters the workload with this uid lists in status.placements (those being
     * vacated included), or undefined when the host has no such workload: an indexed
     * lookup in the workload cache, called for every report. The status stream keeps
     * the newest report of every workload of the last month, deleted ones included, and
     * a member may publish any uid: only reports of workloads placed on their sender are
     * kept. Default: every uid is placed everywhere (tests that feed receive()).
     */
    placedOn?: (uid: string) => ReadonlySet<string> | undefined;
  }) {
    this.#source = params.source;
    this.#placedOn = params.placedOn ?? (() => EVERYWHERE);
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
   * visible from here), and the member's reports are taken even if the workload cache
   * does not list the cluster yet.
   */
  intentPublished(intent: PlacementIntent): void {
    const uid = intent.workload?.uid ?? "";
    if (!uid) return;
    if (!this.#placedOn(uid)?.has(intent.cluster)) {
      const announced = this.#announced.get(uid) ?? new Set<string>();
      announced.add(intent.cluster);
      this.#announced.set(uid, announced);
    }
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
    this.#announced.delete(uid);
    this.#acks.forget(uid);
    this.#refusals.forget(uid);
  }

  /**
   * The workload cache changed this workload (call on every add and update): the
   * reports of members it no longer lists are dropped, and marks of published intents
   * the cache now shows are cleared. No scan: one workload, its few clusters.
   */
  placementsChanged(uid: string): void {
    const placed = this.#placedOn(uid);
    if (placed === undefined) {
      this.forget(uid);
      return;
    }
    const announced = this.#announced.get(uid);
    if (announced) {
      for (const cluster of placed) announced.delete(cluster);
      if (announced.size === 0) this.#announced.delete(uid);
    }
    const byCluster = this.#statuses.get(uid);
    if (!byCluster) return;
    for (const cluster of [...byCluster.keys()]) {
      if (!placed.has(cluster) && !announced?.has(cluster)) byCluster.delete(cluster);
    }
    if (byCluster.size === 0) this.#statuses.delete(uid);
  }

  /** The member is gone: its heartbeat and every report it sent are dropped. */
  forgetCluster(cluster: string): void {
    this.#heartbeats.delete(cluster);
    for (const [uid, byCluster] of this.#statuses) {
      byCluster.delete(cluster);
      if (byCluster.size === 0) this.#statuses.delete(uid);
    }
    for (const [uid, announced] of this.#announced) {
      announced.delete(cluster);
      if (announced.size === 0) this.#announced.delete(uid);
    }
    this.#acks.forgetCluster(cluster);
    this.#refusals.forgetCluster(cluster);
  }

  /** Workloads with reports held (for tests and memory checks). */
  get size(): number {
    return this.#statuses.size;
  }

  /** (workload, cluster) reports held: at most the placements the host has, whatever members send. */
  get entries(): number {
    let n = 0;
    for (const byCluster of this.#statuses.values()) n += byCluster.size;
    return n;
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

  /**
   * Takes one status as it came off the stream, or refuses it (counted by reason, never
   * stored). Returns the refusal's reason, or undefined when it was taken.
   */
  deliver({ message, receivedAt, subject }: Received<WorkloadStatus>, opened: number): ReportDrop | undefined {
    const from = parseSubject(subject ?? "");
    const verdict = from?.kind === "status"
      ? reportAdmission({
        subject: { cluster: from.cluster, workloadUid: from.workloadUid },
        payload: { cluster: message.cluster, workloadUid: message.workload?.uid },
        placedOn: this.#placedOnOrAnnounced(from.workloadUid),
      })
      // The consumer's filter lets only status subjects through; anything else names no sender to trust.
      : { accept: false as const, reason: ReportDrop.ClusterMismatch };
    // What the consumer replays on opening (the newest per subject) was sent earlier:
    // it settles what it shows but measures no latency and counts no new refusal.
    const replayed = receivedAt.getTime() < opened;
    if (!verdict.accept) {
      this.#dropped(verdict.reason, { subject: subject ?? "", cluster: message.cluster });
      // Read again at a start, the status of a workload the host no longer has (deleted, or
      // made up by a member) is removed from the stream, so the start after reads only
      // what the live workloads need. Only replayed ones: a live flood is not answered
      // with one stream request per forged status (what it left goes at the next start).
      // Only ones older than the cache can lag: a workload created just before this start
      // may not be in the synced cache yet, and its first report must not be purged.
      if (verdict.reason === ReportDrop.UnknownWorkload && receivedAt.getTime() < opened - DISCARD_MIN_AGE_MS) this.#discard(subject ?? "");
      return verdict.reason;
    }
    const uid = message.workload?.uid ?? "";
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
    return undefined;
  }

  /** A status whose payload did not decode: refused like the others, counted and logged at the same rate. */
  malformed({ subject, reason }: MalformedReport): void {
    const from = parseSubject(subject);
    this.#dropped(ReportDrop.Malformed, { subject, cluster: from && "cluster" in from ? from.cluster : "", why: reason });
  }

  /** A heartbeat the source dropped (it does not decode, or names another cluster): counted, logged at most once a minute per reason. */
  heartbeatDropped({ subject, reason, detail }: DroppedReport): void {
    this.#metrics.heartbeatDropped({ reason });
    const from = parseSubject(subject);
    this.#logAtMostOnceAMinute(`heartbeat:${reason}`, () =>
      this.#log.warn({ subject, cluster: from && "cluster" in from ? from.cluster : "", reason, why: detail }, "dropped a member's heartbeat (further drops for this reason are only counted for a minute)"));
  }

  /** Purges one subject at a time, at most DISCARD_BACKLOG waiting: the rest waits for the next start. */
  #discard(subject: string): void {
    const discard = this.#source.discardStatus?.bind(this.#source);
    if (!discard || this.#discards.length >= DISCARD_BACKLOG) return;
    this.#discards.push(subject);
    if (this.#discarding) return;
    this.#discarding = (async () => {
      for (let next = this.#discards.shift(); next !== undefined; next = this.#discards.shift()) {
        await discard(next).catch((err: unknown) => this.#log.debug({ err, subject: next }, "could not discard a refused status"));
      }
      this.#discarding = undefined;
    })();
  }

  /** Resolves once every discard asked for so far was sent (for tests). */
  async discarded(): Promise<void> {
    while (this.#discarding) await this.#discarding;
  }

  #placedOnOrAnnounced(uid: string): ReadonlySet<string> | undefined {
    const placed = this.#placedOn(uid);
    const announced = this.#announced.get(uid);
    if (placed === undefined || !announced) return placed;
    return new Set([...placed, ...announced]);
  }

  /** Counted always; logged at most once a minute per reason, with the count since. */
  #dropped(reason: ReportDrop, about: { subject: string; cluster: string; why?: string }): void {
    this.#metrics.statusReportDropped({ reason });
    this.#logAtMostOnceAMinute(reason, () =>
      this.#log.warn({ ...about, reason }, "refused a member's workload status (further refusals for this reason are only counted for a minute)"));
  }

  #logAtMostOnceAMinute(key: string, log: () => void): void {
    const now = this.#clock.now().getTime();
    const last = this.#dropLog.get(key);
    if (last !== undefined && now - last < 60_000) return;
    this.#dropLog.set(key, now);
    log();
  }

  async start(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#loop(signal, "heartbeats"), this.#loop(signal, "statuses")]);
  }

  async #loop(signal: AbortSignal, kind: "heartbeats" | "statuses"): Promise<void> {
    // A consumer that fails (NATS restarting) is opened again: it starts from the newest of each subject.
    while (!signal.aborted) {
      try {
        if (kind === "heartbeats") {
          for await (const { message, receivedAt } of this.#source.heartbeats(signal, (d) => this.heartbeatDropped(d))) {
            const had = this.#heartbeats.get(message.cluster);
            if (had && had.receivedAt > receivedAt) continue;
            this.#heartbeats.set(message.cluster, { heartbeat: message, receivedAt });
            for (const h of this.#onHeartbeat) h(message.cluster);
          }
        } else {
          const opened = this.#clock.now().getTime();
          for await (const received of this.#source.statuses(signal, (m) => this.malformed(m))) this.deliver(received, opened);
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

/** How old (before the consumer opened) a refused status must be to be purged. */
const DISCARD_MIN_AGE_MS = 5 * 60_000;

/** Refused subjects waiting to be purged from the stream, at most. */
const DISCARD_BACKLOG = 10_000;

/** What `placedOn` answers when none is given: a set that has every cluster. */
const EVERYWHERE: ReadonlySet<string> = new (class extends Set<string> {
  override has(): boolean {
    return true;
  }
})();
