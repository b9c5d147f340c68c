/**
 * Talking JetStream the federation's way: connect as one identity, publish typed
 * messages with a Nats-Msg-Id, consume a durable consumer as an async iterable, make
 * sure the streams exist, read the audit trail, and drain on shutdown.
 */
import { isDeepStrictEqual } from "node:util";
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, PubAck } from "@nats-io/jetstream";
import { connect, credsAuthenticator, headers, nkeyAuthenticator, nuid, PermissionViolationError } from "@nats-io/transport-node";
import type { NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { AuditRecord } from "../../gen/sovereign/v1/audit.ts";
import type { Heartbeat } from "../../gen/sovereign/v1/heartbeat.ts";
import type { PlacementIntent } from "../../gen/sovereign/v1/intent.ts";
import type { WorkloadStatus } from "../../gen/sovereign/v1/status.ts";
import { canonicalBytes, lineOf, parseLine } from "../../ledger/index.ts";
import type { AttestationBody, LedgerRecord } from "../../ledger/index.ts";
import { codecs } from "./codecs.ts";
import type { Codec } from "./codecs.ts";
import { auditRecordOf } from "./audit-records.ts";
import { ContractViolationError, FederationError, PermissionDeniedError, PublishError, StreamReplicasError } from "../errors.ts";
import {
  attestationsConsumerConfig,
  attestationsStreamConfig,
  auditIndexStreamConfig,
  auditStreamConfig,
  heartbeatsStreamConfig,
  inboxPrefix,
  intentsConsumerConfig,
  intentsStreamConfig,
  INTENTS_STREAM_PREFIX,
  LEGACY_STATUS_STREAM,
  memberKeysStreamConfig,
  parseSubject,
  STATUS_STREAM_PREFIX,
  statusStreamConfig,
  streams,
  subjects,
  validateClusterName,
} from "./protocol.ts";
import type { ConsumerOptions, StreamOptions } from "./protocol.ts";

/** Who is connecting: decides the inbox prefix, hence what replies it can receive. */
export type Identity = { member: string } | "control-plane";

/** Either a NATS creds file's text (user JWT + seed) or a bare nkey seed ("SU..."). */
export type NatsSecret = { creds: string } | { nkeySeed: string };

/** Recognises a creds file or a bare seed from its text, so env vars can name either. */
export function parseNatsSecret(text: string): NatsSecret {
  if (text.includes("-----BEGIN NATS USER JWT-----")) return { creds: text };
  const seed = text.split("\n").map((l) => l.trim()).find((l) => /^SU[A-Z2-7]+$/.test(l));
  if (!seed) throw new FederationError("NATS secret is neither a creds file nor an nkey user seed (SU...)", { retryable: false });
  return { nkeySeed: seed };
}

export interface FederationConnectOptions {
  servers: string | string[];
  identity: Identity;
  secret?: NatsSecret;
  /** PEM of the CA that signed the server certificate; TLS is required when set. */
  caPem?: string;
  /** Connection name shown in the server's monitoring. */
  name?: string;
  log?: Logger;
  /** Injected for tests. */
  connectFn?: (options: NodeConnectionOptions) => Promise<NatsConnection>;
}

/** Maps the client's errors onto ours, so callers decide on retry by type. */
function classify(err: unknown, operation: string, subject: string): FederationError {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof PermissionViolationError) return new PermissionDeniedError(operation, e.subject || subject, err);
    if (e instanceof FederationError) return e;
  }
  return new PublishError(subject, err);
}

export interface PublishResult {
  stream: string;
  seq: number;
  /** True when the stream already held a message with this Nats-Msg-Id. */
  duplicate: boolean;
}

/**
 * Idempotency keys. A retry of the same publish must carry the same id; a new
 * decision must not, even at the same generation (a failover moves replicas without a
 * spec change, and may move them back within the duplicate window), hence decidedAt.
 */
export const msgIds = {
  intent(i: Pick<PlacementIntent, "cluster" | "generation" | "replicas" | "decidedAt"> & { workloadUid: string }): string {
    return `intent:${i.cluster}:${i.workloadUid}:g${i.generation}:r${i.replicas}:${i.decidedAt?.getTime() ?? 0}`;
  },
  heartbeat(h: Pick<Heartbeat, "cluster" | "sequence" | "sentAt">): string {
    // The sequence restarts with the agent; the time keeps ids unique across restarts.
    return `heartbeat:${h.cluster}:${h.sentAt?.getTime() ?? 0}:${h.sequence}`;
  },
  status(s: Pick<WorkloadStatus, "cluster" | "observedGeneration" | "reportedAt"> & { workloadUid: string }): string {
    return `status:${s.cluster}:${s.workloadUid}:g${s.observedGeneration}:${s.reportedAt?.getTime() ?? 0}`;
  },
};

/** Typed publishes; each sets Nats-Msg-Id and waits for the stream's acknowledgement. */
export class FederationPublisher {
  readonly #js: JetStreamClient;
  readonly #nc: NatsConnection | undefined;
  readonly #timeoutMs: number;

  constructor(params: { js: JetStreamClient; nc?: NatsConnection; timeoutMs?: number }) {
    this.#js = params.js;
    this.#nc = params.nc;
    this.#timeoutMs = params.timeoutMs ?? 5000;
  }

  async #publish<T>(codec: Codec<T>, subject: string, message: T, msgID: string): Promise<PublishResult> {
    let ack: PubAck;
    try {
      ack = await this.#js.publish(subject, codec.encode(message), { msgID, timeout: this.#timeoutMs });
    } catch (err) {
      throw classify(err, "publish", subject);
    }
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }

  /** Publishes an intent; fills intentId when empty. Returns the id used. */
  async intent(intent: PlacementIntent): Promise<PublishResult & { intentId: string }> {
    const uid = intent.workload?.uid ?? "";
    const subject = subjects.intent(intent.cluster, uid);
    const intentId = intent.intentId || msgIds.intent({ ...intent, workloadUid: uid });
    const result = await this.#publish(codecs.intent, subject, { ...intent, intentId }, intentId);
    return { ...result, intentId };
  }

  heartbeat(heartbeat: Heartbeat): Promise<PublishResult> {
    return this.#publish(codecs.heartbeat, subjects.heartbeat(heartbeat.cluster), heartbeat, msgIds.heartbeat(heartbeat));
  }

  status(status: WorkloadStatus): Promise<PublishResult> {
    const uid = status.workload?.uid ?? "";
    return this.#publish(codecs.status, subjects.status(status.cluster, uid), status, msgIds.status({ ...status, workloadUid: uid }));
  }

  /**
   * A member's signed attestation (operator/src/ledger's AttestationBody), as its canonical
   * JSON: the bytes the control plane parses are the ones the member signed over. The
   * member and its seq make the Nats-Msg-Id, so a retried publish is stored once.
   */
  attestation(body: AttestationBody): Promise<PublishResult> {
    const a = body.attestation;
    const subject = subjects.attestation(a.member, a.workload.uid);
    return this.#publishBytes(subject, canonicalBytes(body), `attest:${a.member}:${a.seq}`);
  }

  async #publishBytes(subject: string, data: Uint8Array, msgID: string): Promise<PublishResult> {
    let ack: PubAck;
    try {
      ack = await this.#js.publish(subject, data, { msgID, timeout: this.#timeoutMs });
    } catch (err) {
      throw classify(err, "publish", subject);
    }
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Appends one signed ledger record to its chain's subject, only if the subject's last
   * stream sequence is still `expectedLastSubjectSequence` (0: the chain is empty), so
   * that two writers never both link to one tail (LedgerWriter, ledger.ts, says why).
   * The record id is the Nats-Msg-Id: a retried append is stored once.
   */
  async audit(record: LedgerRecord, options: { expectedLastSubjectSequence: number }): Promise<PublishResult> {
    if (!record.id) throw new ContractViolationError("audit record has no id: it is the Nats-Msg-Id that keeps retries from duplicating evidence");
    const subject = subjects.audit(record.chain);
    let ack: PubAck;
    try {
      ack = await this.#js.publish(subject, lineOf(record), { msgID: record.id, expect: { lastSubjectSequence: options.expectedLastSubjectSequence }, timeout: this.#timeoutMs });
    } catch (err) {
      throw classify(err, "publish", subject);
    }
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Appends consecutive records of one chain as one JetStream atomic batch: all stored, at
   * consecutive stream sequences, or none. The first carries the chain's expected last
   * sequence, which guards the whole batch, so a batch is linked to the tail it was built
   * on exactly like a single append; one fsync acknowledges them all (group commit). Each
   * record keeps its id as Nats-Msg-Id: a batch holding an id the stream already has is
   * refused whole (JetStreamApiCodes 10201), and the caller appends those one at a time.
   *
   * Written on the core connection rather than nats.js's Batch helper: that helper turns
   * every refusal of the commit into one generic Error, and the ledger must tell "another
   * writer was first" from "already stored" from "not acknowledged".
   */
  async auditBatch(records: readonly LedgerRecord[], options: { expectedLastSubjectSequence: number }): Promise<{ firstSeq: number; lastSeq: number }> {
    const chain = records[0]?.chain;
    if (!this.#nc) throw new ContractViolationError("audit batches need the NATS connection: construct the publisher with nc");
    if (chain === undefined || records.some((r) => r.chain !== chain || !r.id)) {
      throw new ContractViolationError("an audit batch holds records of one chain, each with an id");
    }
    const subject = subjects.audit(chain);
    const batchId = nuid.next();
    let reply;
    try {
      for (const [i, record] of records.entries()) {
        const h = headers();
        h.set("Nats-Batch-Id", batchId);
        h.set("Nats-Batch-Sequence", String(i + 1));
        h.set("Nats-Msg-Id", record.id);
        if (i === 0) h.set("Nats-Expected-Last-Subject-Sequence", String(options.expectedLastSubjectSequence));
        if (i < records.length - 1) {
          this.#nc.publish(subject, lineOf(record), { headers: h });
          continue;
        }
        h.set("Nats-Batch-Commit", "1");
        reply = await this.#nc.request(subject, lineOf(record), { headers: h, timeout: this.#timeoutMs });
      }
    } catch (err) {
      throw classify(err, "publish", subject);
    }
    const ack = reply!.json<{ seq?: number; count?: number; error?: { code: number; err_code: number; description: string } }>();
    if (ack.error) throw new PublishError(subject, new JetStreamApiError(ack.error));
    if (ack.seq === undefined || ack.count !== records.length) {
      throw new PublishError(subject, new Error(`the batch's acknowledgement says ${ack.count ?? "no"} messages at sequence ${ack.seq ?? "none"}, ${records.length} were sent`));
    }
    return { firstSeq: ack.seq - records.length + 1, lastSeq: ack.seq };
  }
}

/** One message received from a durable consumer, decoded. Ack only after acting on it. */
export interface Delivery<T> {
  readonly message: T;
  readonly subject: string;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** Acknowledges and waits for the server to confirm, so an ack is never silently lost. */
  ack(): Promise<void>;
  /** Asks for redelivery, after `delayMs` if given. */
  nak(delayMs?: number): void;
}

/** A durable consumer as an async iterable; `stop()` ends the iteration. */
export class DurableSubscription<T> implements AsyncIterable<Delivery<T>> {
  readonly #js: JetStreamClient;
  readonly #stream: string;
  readonly #consumer: string;
  readonly #codec: Codec<T>;
  readonly #check: (message: T, subject: string) => void;
  readonly #log: Logger | undefined;
  readonly #maxMessages: number;
  #messages: ConsumerMessages | undefined;
  #stopped = false;

  constructor(params: {
    js: JetStreamClient;
    stream: string;
    consumer: string;
    codec: Codec<T>;
    /** Throws ContractViolationError for a message that contradicts its subject. */
    check?: (message: T, subject: string) => void;
    log?: Logger;
    maxMessages?: number;
  }) {
    this.#js = params.js;
    this.#stream = params.stream;
    this.#consumer = params.consumer;
    this.#codec = params.codec;
    this.#check = params.check ?? (() => undefined);
    this.#log = params.log;
    this.#maxMessages = params.maxMessages ?? 64;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    if (this.#stopped) return;
    try {
      const consumer = await this.#js.consumers.get(this.#stream, this.#consumer);
      this.#messages = await consumer.consume({ max_messages: this.#maxMessages });
    } catch (err) {
      throw classify(err, "consume", `${this.#stream}/${this.#consumer}`);
    }
    if (this.#stopped) this.#messages.stop();
    for await (const m of this.#messages) {
      const delivery = this.#toDelivery(m);
      if (delivery) yield delivery;
    }
  }

  #toDelivery(m: JsMsg): Delivery<T> | undefined {
    let message: T;
    try {
      message = this.#codec.decode(m.data, m.subject);
      this.#check(message, m.subject);
    } catch (err) {
      // A poison message would be redelivered forever: terminate it, say so loudly.
      this.#log?.error({ err, subject: m.subject, seq: m.seq }, "terminating a message that breaks the federation contract");
      m.term(err instanceof Error ? err.message : String(err));
      return undefined;
    }
    return {
      message,
      subject: m.subject,
      streamSequence: m.seq,
      deliveryCount: m.info.deliveryCount,
      redelivered: m.redelivered,
      ack: async () => {
        try {
          await m.ackAck();
        } catch (err) {
          throw classify(err, "ack", m.subject);
        }
      },
      nak: (delayMs) => m.nak(delayMs),
    };
  }

  /**
   * Stops pulling. Messages already buffered but not yet taken are dropped unacknowledged
   * (the server redelivers them after ack_wait); an iteration in progress ends at its
   * next step. Not awaiting the client's close(): it settles only once someone iterates.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#messages?.stop();
  }
}

/**
 * Checks that an intent arriving on `cluster`'s consumer is for `cluster` and for the
 * workload its subject names: the subject is what permissions enforce, the payload is
 * what the agent acts on, and the two must agree.
 */
export function checkIntentFor(cluster: string) {
  return (intent: PlacementIntent, subject: string): void => {
    const parsed = parseSubject(subject);
    if (!parsed || parsed.kind !== "intent" || parsed.cluster !== cluster) {
      throw new ContractViolationError(`intent arrived on ${subject}, which is not an intents subject of ${cluster}`);
    }
    if (intent.cluster !== cluster) throw new ContractViolationError(`intent on ${subject} is addressed to cluster ${JSON.stringify(intent.cluster)}`);
    if (intent.workload?.uid !== parsed.workloadUid) {
      throw new ContractViolationError(`intent on ${subject} is for workload uid ${JSON.stringify(intent.workload?.uid)}`);
    }
  };
}

/** Checks that heartbeats and status claim the cluster their subject (hence their sender's permission) names. */
export function checkSenderCluster(message: { cluster: string }, subject: string): void {
  const parsed = parseSubject(subject);
  if (!parsed || parsed.kind === "audit" || parsed.kind === "attest" || parsed.cluster !== message.cluster) {
    throw new ContractViolationError(`message on ${subject} claims cluster ${JSON.stringify(message.cluster)}`);
  }
}

/** True when every field we set already has that value (the server adds defaults for the rest). */
function alreadySet(desired: object, actual: object): boolean {
  return Object.entries(desired).every(([k, v]) => isDeepStrictEqual((actual as Record<string, unknown>)[k], v));
}

/**
 * Creates a stream, or updates it when it exists with another configuration; leaves a
 * matching one alone, so that calling this on every Join costs one read, not a write.
 * A replica count that changed (a stream made at R1 before the federation moved to a
 * JetStream cluster) is an update too: JetStream scales the stream in place, copying its
 * messages to the new peers. A count the NATS deployment cannot hold (more replicas than
 * servers) is refused with what to do, not retried forever.
 */
async function ensureStream(jsm: JetStreamManager, config: ReturnType<typeof intentsStreamConfig>): Promise<void> {
  let current;
  try {
    current = await jsm.streams.info(config.name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059 /* stream not found */) {
      checkReplicas(config, await replicaWrite(config, () => jsm.streams.add(config)));
      return;
    }
    throw err;
  }
  if (!alreadySet(config, current.config)) checkReplicas(config, await replicaWrite(config, () => jsm.streams.update(config.name, config)));
}

/** JetStream's refusal of a replica count, as an error that names the option and the fix. */
async function replicaWrite<T>(config: { name: string; num_replicas?: number }, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    // Code 10074: replicas > 1 on a server without a cluster; 10005 (and kin): fewer servers than replicas.
    if (err instanceof JetStreamApiError && (config.num_replicas ?? 1) > 1 && /replica|insufficient resources|no suitable peers/i.test(err.message)) {
      throw new StreamReplicasError({ stream: config.name, replicas: config.num_replicas ?? 1, why: err.message, cause: err });
    }
    throw err;
  }
}

function checkReplicas(config: { name: string; num_replicas?: number }, info: { config: { num_replicas: number } }): void {
  const want = config.num_replicas ?? 1;
  if (info.config.num_replicas !== want) {
    throw new StreamReplicasError({ stream: config.name, replicas: want, why: `the server keeps it at R${info.config.num_replicas}` });
  }
}

export interface EnsureOptions {
  streams?: StreamOptions;
  consumers?: ConsumerOptions;
}

/** The control plane's setup of one member: its intents stream and the durable consumer its agent pulls. */
export async function ensureMemberStreams(jsm: JetStreamManager, cluster: string, options: EnsureOptions = {}): Promise<void> {
  validateClusterName(cluster);
  await ensureStream(jsm, statusStreamConfig(cluster, options.streams));
  await ensureStream(jsm, intentsStreamConfig(cluster, options.streams));
  const stream = streams.intents(cluster);
  const config = intentsConsumerConfig(cluster, options.consumers);
  let current;
  try {
    current = await jsm.consumers.info(stream, config.durable_name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10014 /* consumer not found */) {
      await jsm.consumers.add(stream, config);
      return;
    }
    throw err;
  }
  if (alreadySet(config, current.config)) return;
  // Only the mutable fields; deliver and ack policies are fixed at creation.
  const { ack_wait, max_deliver, description, filter_subject } = config;
  await jsm.consumers.update(stream, config.durable_name, {
    ...(ack_wait !== undefined ? { ack_wait } : {}),
    ...(max_deliver !== undefined ? { max_deliver } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(filter_subject !== undefined ? { filter_subject } : {}),
  });
}

/**
 * Whether the agent of `cluster` took everything the control plane put on its intents
 * stream: nothing left to deliver, nothing delivered and not acknowledged (the agent acks
 * an intent once it acted on it). True when the stream or its consumer is gone.
 */
export async function memberIntentsSettled(jsm: JetStreamManager, cluster: string): Promise<boolean> {
  try {
    const info = await jsm.consumers.info(streams.intents(cluster), streams.intentsConsumer(cluster));
    return info.num_pending === 0 && info.num_ack_pending === 0;
  } catch (err) {
    if (err instanceof JetStreamApiError && (err.code === 10014 /* consumer not found */ || err.code === 10059 /* stream not found */)) return true;
    throw err;
  }
}

/** Deletes `cluster`'s status and intents streams (its agent's consumer goes with them); absent ones are fine. Returns how many it deleted. */
export async function deleteMemberStreams(jsm: JetStreamManager, cluster: string): Promise<number> {
  let deleted = 0;
  for (const name of [streams.intents(cluster), streams.status(cluster)]) {
    try {
      if (await jsm.streams.delete(name)) deleted++;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === 10059 /* stream not found */)) throw err;
    }
  }
  return deleted;
}

/** The clusters that have a status or intents stream on the server. */
export async function memberStreamClusters(jsm: JetStreamManager): Promise<string[]> {
  const clusters = new Set<string>();
  for await (const name of jsm.streams.names()) {
    for (const prefix of [STATUS_STREAM_PREFIX, INTENTS_STREAM_PREFIX]) {
      if (name.startsWith(prefix) && name.length > prefix.length) clusters.add(name.slice(prefix.length));
    }
  }
  return [...clusters].sort();
}

/**
 * The streams shared by all members: heartbeats, audit, attestations (with the control
 * plane's consumer) and member keys. Status has a stream per member (ensureMemberStreams).
 */
export async function ensureSharedStreams(jsm: JetStreamManager, options: EnsureOptions = {}): Promise<void> {
  await removeLegacyStatusStream(jsm);
  await ensureStream(jsm, heartbeatsStreamConfig(options.streams));
  await ensureStream(jsm, auditStreamConfig(options.streams));
  await ensureStream(jsm, auditIndexStreamConfig(options.streams));
  await ensureStream(jsm, attestationsStreamConfig(options.streams));
  await ensureStream(jsm, memberKeysStreamConfig(options.streams));
  const config = attestationsConsumerConfig(options.consumers);
  try {
    const current = await jsm.consumers.info(streams.attestations, config.durable_name);
    if (!alreadySet(config, current.config)) {
      const { ack_wait, max_deliver, description, max_ack_pending } = config;
      await jsm.consumers.update(streams.attestations, config.durable_name, { ack_wait, max_deliver, description, max_ack_pending } as never);
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === 10014 /* consumer not found */)) throw err;
    await jsm.consumers.add(streams.attestations, config);
  }
}

/** The shared status stream of earlier releases overlaps every member's: it goes before any is created. */
async function removeLegacyStatusStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.delete(LEGACY_STATUS_STREAM);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059 /* stream not found */) return;
    throw err;
  }
}

export interface AuditReadOptions {
  /** Only records of this country's subject. */
  country?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

/** One message of the audit stream as stored. */
export interface StoredAuditMessage {
  data: Uint8Array;
  subject: string;
  streamSequence: number;
  storedAt: Date;
}

/**
 * Reads the audit stream from `since` to the moment of the call, oldest first, then
 * ends: an ephemeral consumer counts what is pending when it is created, so a query
 * always terminates even while new records arrive.
 */
export async function* readAuditMessages(
  params: { jsm: JetStreamManager; js: JetStreamClient } & AuditReadOptions,
): AsyncGenerator<StoredAuditMessage> {
  const name = `audit-query-${nuid.next()}`;
  const info = await params.jsm.consumers.add(streams.audit, {
    name,
    ack_policy: AckPolicy.None,
    filter_subject: params.country ? subjects.audit(params.country) : subjects.allAudit,
    ...(params.since ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: params.since.toISOString() } : { deliver_policy: DeliverPolicy.All }),
    mem_storage: true,
    // Cleaned up by the server if this reader dies mid-way.
    inactive_threshold: 60_000 * 1_000_000,
  });
  let remaining = params.limit ? Math.min(params.limit, info.num_pending) : info.num_pending;
  try {
    const consumer = await params.js.consumers.get(streams.audit, name);
    let emptyBatches = 0;
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 256), expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        if (params.until && m.time > params.until) return;
        remaining--;
        yield { data: m.data, subject: m.subject, streamSequence: m.seq, storedAt: m.time };
        if (remaining === 0) break;
      }
      // The messages were counted as pending; if they stop coming the stream changed under us.
      emptyBatches = got === 0 ? emptyBatches + 1 : 0;
      if (emptyBatches >= 3) throw new FederationError(`audit query stalled with ${remaining} records pending`, { retryable: true });
    }
  } finally {
    await params.jsm.consumers.delete(streams.audit, name).catch(() => undefined);
  }
}

/**
 * The placement records of the audit stream as AuditRecords (what AuditService.Query
 * answers). Ledger records (JSON, operator/src/ledger) are read as such, keys and other
 * non-placement records skipped; a protobuf record written before the ledger is still read.
 */
export async function* readAudit(
  params: { jsm: JetStreamManager; js: JetStreamClient; log?: Logger } & AuditReadOptions,
): AsyncGenerator<{ record: AuditRecord; streamSequence: number; storedAt: Date }> {
  for await (const m of readAuditMessages(params)) {
    let record: AuditRecord | undefined;
    try {
      record = m.data[0] === 0x7b /* "{" */ ? auditRecordOf(parseLine(m.data)) : codecs.audit.decode(m.data, m.subject);
    } catch (err) {
      // The stream is append-only (deny_delete, deny_purge): one record that does not
      // decode (a bug, or something written before the NATS accounts closed the
      // reply-subject hole) would otherwise make every query over it fail for as long
      // as it is retained. Skip it and say where it is, so an auditor can look.
      params.log?.error({ err, subject: m.subject, seq: m.streamSequence }, "skipping an audit record that does not decode");
      continue;
    }
    if (record) yield { record, streamSequence: m.streamSequence, storedAt: m.storedAt };
  }
}

/** One identity's connection to the federation's NATS. */
export class FederationClient {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly identity: Identity;
  readonly publish: FederationPublisher;
  readonly #log: Logger | undefined;
  readonly #subscriptions = new Set<{ stop(): Promise<void> }>();

  private constructor(params: { nc: NatsConnection; identity: Identity; log?: Logger }) {
    this.nc = params.nc;
    this.identity = params.identity;
    this.#log = params.log;
    this.js = jetstream(params.nc);
    this.publish = new FederationPublisher({ js: this.js, nc: params.nc });
    // However the connection ends (drain, close, fatal error), stop the consumers: the
    // client's heartbeat monitors would otherwise keep timers running after it.
    void params.nc.closed().then(() => this.#stopAll());
  }

  async #stopAll(): Promise<void> {
    await Promise.allSettled([...this.#subscriptions].map((s) => s.stop()));
  }

  static async connect(options: FederationConnectOptions): Promise<FederationClient> {
    const identity = options.identity;
    if (identity !== "control-plane") validateClusterName(identity.member, "identity.member");
    const secret = options.secret;
    const nc = await (options.connectFn ?? connect)({
      servers: options.servers,
      name: options.name ?? (identity === "control-plane" ? "sovereign-control-plane" : `sovereign-agent-${identity.member}`),
      inboxPrefix: inboxPrefix(identity),
      // Never give up: nats.js stops after 10 attempts 2 s apart by default, and a member cut
      // from NATS for longer than that stayed cut off for good while its process ran on
      // (found by npm run chaos: a 45 s partition). Reconnects are spread by nats.js's jitter.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 2_000,
      ...(options.caPem ? { tls: { ca: options.caPem } } : {}),
      ...(secret && "creds" in secret ? { authenticator: credsAuthenticator(new TextEncoder().encode(secret.creds)) } : {}),
      ...(secret && "nkeySeed" in secret ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(secret.nkeySeed)) } : {}),
    });
    return new FederationClient({ nc, identity, ...(options.log ? { log: options.log } : {}) });
  }

  /** JetStream management: only the control plane's identity is permitted this. */
  manager(): Promise<JetStreamManager> {
    return jetstreamManager(this.nc, { checkAPI: false });
  }

  #track<T extends { stop(): Promise<void> }>(sub: T): T {
    this.#subscriptions.add(sub);
    return sub;
  }

  /** The member agent's view: its own intents, checked against its own cluster. */
  intents(cluster: string, options: { maxMessages?: number } = {}): DurableSubscription<PlacementIntent> {
    return this.#track(new DurableSubscription({
      js: this.js,
      stream: streams.intents(cluster),
      consumer: streams.intentsConsumer(cluster),
      codec: codecs.intent,
      check: checkIntentFor(cluster),
      ...(this.#log ? { log: this.#log } : {}),
      ...options,
    }));
  }

  /** Stops every consumer, delivers what is buffered, then closes. */
  async drain(): Promise<void> {
    await this.#stopAll();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
