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
import type { AuditRecord, Heartbeat, IntentPublisher, PlacementIntent, Received, ReportSource, WorkloadStatus } from "../interfaces.ts";
import { codecs } from "./codecs.ts";
import type { Codec } from "./codecs.ts";
import type { ConnectionState } from "./connection.ts";
import { checkSenderCluster, ensureMemberStreams, ensureSharedStreams } from "./jetstream.ts";
import type { EnsureOptions, FederationClient } from "./jetstream.ts";
import type { LedgerWriter } from "./ledger.ts";
import { streams, subjects } from "./protocol.ts";

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
        params.log?.warn({ err, subject: m.subject, seq: m.seq }, "dropping a report that breaks the federation contract");
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

  /**
   * With `connection`, every reconnect ends the open consumptions, and the report book
   * opens them again at once: the ordered consumers would otherwise notice the restarted
   * server only after missing its idle heartbeats (about 30 s without a heartbeat heard,
   * long enough for every member to look NotReady).
   */
  constructor(params: { client: FederationClient; log?: Logger; connection?: ConnectionState }) {
    this.#client = params.client;
    this.#log = params.log;
    params.connection?.onReconnect(() => {
      for (const o of [...this.#open]) o.stop();
    });
  }

  heartbeats(signal: AbortSignal): AsyncIterable<Received<Heartbeat>> {
    return lastPerSubject({ client: this.#client, stream: streams.heartbeats, filter: subjects.allHeartbeats, codec: codecs.heartbeat, signal, log: this.#log, open: this.#open, checkSender: true });
  }

  statuses(signal: AbortSignal): AsyncIterable<Received<WorkloadStatus>> {
    return lastPerSubject({ client: this.#client, stream: streams.status, filter: subjects.allStatus, codec: codecs.status, signal, log: this.#log, open: this.#open, checkSender: false });
  }
}

/** The streams the control plane owns: the shared ones at start, one per member as members appear. */
export class ControlPlaneStreams {
  readonly #client: FederationClient;
  readonly #options: EnsureOptions;
  readonly #ready = new Set<string>();

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
    await ensureMemberStreams(await this.#client.manager(), cluster, this.#options);
    this.#ready.add(cluster);
  }
}
