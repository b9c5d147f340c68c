/**
 * The control plane's side of the NATS protocol behind the narrow interfaces:
 * IntentPublisher (intents with publish latency measured, and audit records appended to
 * the signed ledger) and
 * ReportSource (heartbeats and workload status through ordered consumers that start
 * with the newest message of every subject, so a restarted control plane knows every
 * member's last heartbeat at once, timed by the stream, not by the member's clock).
 */
import { DeliverPolicy } from "@nats-io/jetstream";
import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { noopSovereignMetrics } from "../../metrics/index.ts";
import type { SovereignMetrics } from "../../metrics/index.ts";
import { ContractViolationError, DecodeError } from "../errors.ts";
import type { AuditRecord, DroppedReport, Heartbeat, IntentPublisher, MalformedReport, PlacementIntent, Received, ReportSource, WorkloadStatus } from "../interfaces.ts";
import { codecs } from "./codecs.ts";
import type { Codec } from "./codecs.ts";
import type { ConnectionState } from "./connection.ts";
import { checkSenderCluster, deleteMemberStreams, ensureMemberStreams, ensureSharedStreams, memberIntentsSettled, memberStreamClusters } from "./jetstream.ts";
import type { EnsureOptions, FederationClient } from "./jetstream.ts";
import type { LedgerWriter } from "./ledger.ts";
import { parseSubject, STATUS_STREAM_PREFIX, streams, subjects } from "./protocol.ts";

export class ControlPlaneIntentPublisher implements IntentPublisher {
  readonly #client: FederationClient;
  readonly #metrics: SovereignMetrics;
  readonly #ledger: LedgerWriter;

  constructor(params: { client: FederationClient; ledger: LedgerWriter; metrics?: SovereignMetrics }) {
    this.#client = params.client;
    this.#ledger = params.ledger;
    this.#metrics = params.metrics ?? noopSovereignMetrics;
  }

  async publishIntent(intent: PlacementIntent): Promise<{ intentId: string; duplicate: boolean }> {
    const started = performance.now();
    const result = await this.#client.publish.intent(intent);
    this.#metrics.intentPublished({ cluster: intent.cluster, seconds: (performance.now() - started) / 1000 });
    return { intentId: result.intentId, duplicate: result.duplicate };
  }

  /** Appends the record to its country's hash chain, linked and signed (ledger.ts). */
  async publishAudit(record: AuditRecord): Promise<void> {
    await this.#ledger.appendAudit(record);
  }
}

/** Newest of each subject first, then every new message, until `signal` aborts. */
async function* lastPerSubject<T extends { cluster: string }>(params: {
  client: FederationClient;
  stream: string;
  filter: string;
  codec: Codec<T>;
  signal: AbortSignal;
  log?: Logger | undefined;
  /** Where the open consumption is registered, so a reconnect can end it. */
  open: Set<{ stop(): void }>;
  /**
   * Whether a payload naming another cluster than its subject is dropped here (the
   * heartbeats); statuses leave it to the control plane's admission, which counts it.
   */
  checkSender: boolean;
  /**
   * Told of each payload dropped here (it does not decode, or names another cluster)
   * instead of a log line per message (a flood would be a log flood).
   */
  onDropped?: ((dropped: DroppedReport) => void) | undefined;
}): AsyncGenerator<Received<T>> {
  const consumer = await params.client.js.consumers.get(params.stream, { filter_subjects: params.filter, deliver_policy: DeliverPolicy.LastPerSubject });
  const messages = await consumer.consume();
  const stop = () => void messages.stop();
  params.signal.addEventListener("abort", stop, { once: true });
  const handle = { stop };
  params.open.add(handle);
  try {
    for await (const m of messages as AsyncIterable<JsMsg>) {
      let message: T;
      try {
        message = params.codec.decode(m.data, m.subject);
        // The subject is what NATS permissions enforce: a payload claiming another cluster is dropped.
        if (params.checkSender) checkSenderCluster(message, m.subject);
      } catch (err) {
        const reason = err instanceof DecodeError ? "Malformed" : err instanceof ContractViolationError ? "ClusterMismatch" : undefined;
        if (params.onDropped && reason) params.onDropped({ subject: m.subject, reason, detail: (err as Error).message });
        else params.log?.warn({ err, subject: m.subject, seq: m.seq }, "dropping a report that breaks the federation contract");
        continue;
      }
      yield { message, receivedAt: m.time, subject: m.subject };
    }
  } finally {
    params.open.delete(handle);
    params.signal.removeEventListener("abort", stop);
    messages.stop();
  }
}

export class ControlPlaneReportSource implements ReportSource {
  readonly #client: FederationClient;
  readonly #log: Logger | undefined;
  readonly #open = new Set<{ stop(): void }>();
  readonly #rescanMs: number;

  /**
   * With `connection`, every reconnect ends the open consumptions, and the report book
   * opens them again at once: the ordered consumers would otherwise notice the restarted
   * server only after missing its idle heartbeats (about 30 s without a heartbeat heard,
   * long enough for every member to look NotReady).
   */
  constructor(params: {
    client: FederationClient; log?: Logger; connection?: ConnectionState;
    /** How often the list of member status streams is read for new members (default 3 s). */
    rescanMs?: number;
  }) {
    this.#client = params.client;
    this.#log = params.log;
    this.#rescanMs = params.rescanMs ?? 3000;
    params.connection?.onReconnect(() => {
      for (const o of [...this.#open]) o.stop();
    });
  }

  heartbeats(signal: AbortSignal, onDropped?: (dropped: DroppedReport) => void): AsyncIterable<Received<Heartbeat>> {
    return lastPerSubject({ client: this.#client, stream: streams.heartbeats, filter: subjects.allHeartbeats, codec: codecs.heartbeat, signal, log: this.#log, open: this.#open, checkSender: true, onDropped });
  }

  async discardStatus(subject: string): Promise<void> {
    const parsed = parseSubject(subject);
    if (parsed?.kind !== "status") return;
    const jsm = await this.#client.manager();
    await jsm.streams.purge(streams.status(parsed.cluster), { filter: subject });
  }

  /**
   * Every member's status stream, merged: the ones that exist when called, and each one
   * created later (a member that joined), found by listing the stream names every
   * `rescanMs`. A member's consumer that fails (its stream deleted with the member) is
   * closed alone and opened again at the next listing if the stream is back.
   */
  statuses(signal: AbortSignal, onMalformed?: (report: MalformedReport) => void): AsyncIterable<Received<WorkloadStatus>> {
    // A reconnect ends the merged iterable as a whole (the report book reopens it at once).
    const ended = new AbortController();
    const handle = { stop: () => ended.abort() };
    this.#open.add(handle);
    const merged = mergeMemberStreams({
      signal: AbortSignal.any([signal, ended.signal]), rescanMs: this.#rescanMs, log: this.#log,
      list: async () => {
        const jsm = await this.#client.manager();
        const listed: { name: string; incarnation: string }[] = [];
        for await (const info of jsm.streams.list(subjects.allStatus)) {
          if (info.config.name.startsWith(STATUS_STREAM_PREFIX)) listed.push({ name: info.config.name, incarnation: info.created });
        }
        return listed;
      },
      open: (stream, s) => lastPerSubject({
        client: this.#client, stream, filter: subjects.allStatus, codec: codecs.status, signal: s, log: this.#log, open: new Set(), checkSender: false,
        onDropped: onMalformed && ((d: DroppedReport) => onMalformed({ subject: d.subject, reason: d.detail })),
      }),
    });
    const open = this.#open;
    return (async function* () {
      try {
        yield* merged;
      } finally {
        open.delete(handle);
      }
    })();
  }
}

/**
 * Merges one async iterable per stream into one, adding streams as `list()` shows new
 * ones, and closing the iterable of a stream missing from two listings in a row or made again
 * (another incarnation: a deleted member declared again), whose consumer would read the
 * deleted stream forever; one made again is opened afresh. Deliveries are handed over one
 * at a time (each pump waits for the reader), so a flooding member's backlog stays in its
 * consumer's bounded buffer, not in a queue here.
 */
export async function* mergeMemberStreams<T>(params: {
  signal: AbortSignal;
  rescanMs: number;
  log?: Logger | undefined;
  /** The streams now, each with what tells one incarnation from the next (its creation time). */
  list: () => Promise<readonly { name: string; incarnation: string }[]>;
  open: (stream: string, signal: AbortSignal) => AsyncIterable<T>;
}): AsyncGenerator<T> {
  const { signal } = params;
  const open = new Map<string, { stop: AbortController; incarnation: string; misses: number }>();
  // One slot: a pump puts a value and waits until the reader took it.
  const waiting: { value: T; taken: () => void }[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pump = async (stream: string, entry: { stop: AbortController; incarnation: string; misses: number }) => {
    const { stop } = entry;
    try {
      for await (const value of params.open(stream, AbortSignal.any([signal, stop.signal]))) {
        await new Promise<void>((taken) => {
          waiting.push({ value, taken });
          notify();
        });
        if (stop.signal.aborted || signal.aborted) break;
      }
    } catch (err) {
      if (!signal.aborted && !stop.signal.aborted) params.log?.warn({ err, stream }, "a member's status consumer failed; reopening at the next listing");
    } finally {
      if (open.get(stream) === entry) open.delete(stream);
    }
  };
  const rescan = async () => {
    let listed: readonly { name: string; incarnation: string }[];
    try {
      listed = await params.list();
    } catch (err) {
      // NATS reconnecting: the open consumers go on, the next listing tries again.
      if (!signal.aborted) params.log?.warn({ err }, "could not list the members' status streams; trying again");
      return;
    }
    if (signal.aborted) return;
    const now = new Map(listed.map((l) => [l.name, l.incarnation]));
    for (const [stream, entry] of open) {
      const incarnation = now.get(stream);
      if (incarnation === entry.incarnation) {
        entry.misses = 0;
        continue;
      }
      // Absent from one listing only: a JetStream cluster leaves out a stream whose leader
      // did not answer in time (an election); absent twice, or made again: this consumer
      // reads nothing any more.
      if (incarnation === undefined && ++entry.misses < 2) continue;
      entry.stop.abort();
      open.delete(stream);
    }
    for (const [stream, incarnation] of now) {
      if (open.has(stream)) continue;
      const entry = { stop: new AbortController(), incarnation, misses: 0 };
      open.set(stream, entry);
      void pump(stream, entry);
    }
  };
  const timer = setInterval(() => void rescan(), params.rescanMs);
  const onAbort = () => notify();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await rescan();
    while (!signal.aborted) {
      const next = waiting.shift();
      if (next) {
        next.taken();
        yield next.value;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearInterval(timer);
    signal.removeEventListener("abort", onAbort);
    for (const entry of open.values()) entry.stop.abort();
    for (const w of waiting.splice(0)) w.taken();
  }
}

/**
 * What removeMember did: deleted the streams ("removed"), found none ("absent"), or kept
 * them because the member is in use or its agent has not taken everything yet.
 */
export type MemberStreamsRemoval = "removed" | "absent" | "in-use" | "undelivered";

/**
 * The streams the control plane owns: the shared ones at start, one per member as members
 * appear, and a member's own streams removed once it is gone and done with (each reserves
 * its storage limit on the server, so the streams of deleted members would use it up).
 */
export class ControlPlaneStreams {
  readonly #client: FederationClient;
  readonly #options: EnsureOptions;
  readonly #ready = new Set<string>();
  /** Per member: the ensure or remove in flight, so the two never interleave for one member. */
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(params: { client: FederationClient; options?: EnsureOptions }) {
    this.#client = params.client;
    this.#options = params.options ?? {};
  }

  async ensureShared(): Promise<void> {
    await ensureSharedStreams(await this.#client.manager(), this.#options);
  }

  /** Idempotent; remembered per process so a steady stream of reconciles costs nothing. */
  async ensureMember(cluster: string): Promise<void> {
    if (this.#ready.has(cluster)) return;
    await this.#serially(cluster, async () => {
      if (this.#ready.has(cluster)) return;
      await ensureMemberStreams(await this.#client.manager(), cluster, this.#options);
      this.#ready.add(cluster);
    });
  }

  /**
   * Deletes `cluster`'s status and intents streams when `unused()` still holds (asked
   * under the member's lock, so an ensureMember of a member declared again meanwhile is
   * never undone) and its agent took every intent (see memberIntentsSettled), or is gone
   * (`agentGone()`: an agent uninstalled before its MemberCluster was deleted never takes
   * the removals): a member deleted while its agent still has a removal to act on keeps
   * its streams until it has.
   */
  async removeMember(params: { cluster: string; unused: () => boolean; agentGone?: () => boolean }): Promise<MemberStreamsRemoval> {
    return this.#serially(params.cluster, async () => {
      if (!params.unused()) return "in-use";
      const jsm = await this.#client.manager();
      if (!(await memberIntentsSettled(jsm, params.cluster)) && !params.agentGone?.()) return "undelivered";
      if (!params.unused()) return "in-use";
      this.#ready.delete(params.cluster);
      return (await deleteMemberStreams(jsm, params.cluster)) > 0 ? "removed" : "absent";
    });
  }

  /** The clusters that have member streams on the server (a start looks for those of deleted members). */
  async memberClusters(): Promise<string[]> {
    return memberStreamClusters(await this.#client.manager());
  }

  async #serially<T>(cluster: string, work: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(cluster) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    const settled = run.catch(() => undefined);
    this.#busy.set(cluster, settled);
    try {
      return await run;
    } finally {
      if (this.#busy.get(cluster) === settled) this.#busy.delete(cluster);
    }
  }
}
