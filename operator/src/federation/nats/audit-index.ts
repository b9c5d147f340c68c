/**
 * The audit stream's read-side index, so that queries do not slow as the trail grows.
 *
 * The audit stream keeps one subject per country chain (ledger.ts), which is what makes a
 * chain one writer's at a time; a query by workload over it had to read its country's
 * chain from the start. The index stream (protocol.ts, `sov.auditidx.v1.*`) holds one small
 * entry per audit message, on a subject of its own kind:
 *
 *   p.<token>   a placement record of the workload whose auditIndexToken is <token>
 *   a.<token>   an attestation of that workload
 *   k.<CHAIN>   a key or member-key record of the chain (what an export from --since needs)
 *   o           anything else (a protobuf record from before the ledger, a record of a type
 *               this version does not know), so that every audit message has an entry
 *
 * Each entry names the audit stream sequence of its record; a query reads the workload's
 * subject and fetches just those records. The index is written by an AuditIndexer that
 * follows the audit stream in order (an ordered consumer), not by the writer: the write
 * path is left as it is, whatever it becomes (one record at a time, or a chain's records
 * in a batch), and a record appended by any control plane, before a crash or during a
 * leader change, is indexed all the same. At start it resumes after the audit sequence of
 * the index's last entry; with no index yet it builds it from the whole audit stream. An
 * entry's Nats-Msg-Id is its audit sequence: two control planes indexing at once store it
 * once (and a reader drops any repeat beyond the duplicate window).
 *
 * The index is derived data and never evidence: `audit verify` checks exports, which
 * carry the records themselves.
 */
import { createHash } from "node:crypto";
import { AckPolicy, DeliverPolicy, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { nuid } from "@nats-io/nats-core";
import type { Logger } from "pino";
import { RecordType, parseLine } from "../../ledger/index.ts";
import type { AttestationBody, LedgerRecord, PlacementBody } from "../../ledger/index.ts";
import { FederationError } from "../errors.ts";
import { AUDIT_INDEX_PREFIX, streams, subjects } from "./protocol.ts";

/** The token of a workload's index subjects: SHA-256 of "namespace/name", 32 hex digits (a name may hold dots, a subject token may not). */
export function auditIndexToken(namespace: string, name: string): string {
  return createHash("sha256").update(`${namespace}/${name}`).digest("hex").slice(0, 32);
}

/** What an index entry says: where its record is, and enough to filter without fetching it. */
export interface AuditIndexEntry {
  /** The record's audit stream sequence. */
  seq: number;
  /** The record's chain (country); "" for a message that is not a ledger record. */
  chain: string;
  /** The record id; "" for a message that is not a ledger record. */
  id: string;
  type: string;
  /** The record's time (RFC 3339); "" for a message that is not a ledger record. */
  time: string;
}

export const AuditIndexKind = { Placement: "p", Attestation: "a", Keys: "k", Other: "o" } as const;

/** The index subject and entry of one audit message (pure: what the indexer writes). */
export function auditIndexEntryOf(message: { data: Uint8Array; streamSequence: number }): { subject: string; entry: AuditIndexEntry } {
  let record: LedgerRecord | undefined;
  try {
    record = message.data[0] === 0x7b /* "{" */ ? parseLine(message.data) : undefined;
  } catch {
    record = undefined;
  }
  if (!record) return { subject: `${AUDIT_INDEX_PREFIX}.${AuditIndexKind.Other}`, entry: { seq: message.streamSequence, chain: "", id: "", type: "", time: "" } };
  const entry = { seq: message.streamSequence, chain: record.chain, id: record.id, type: record.type, time: record.time };
  switch (record.type) {
    case RecordType.Placement: {
      const w = (record.body as PlacementBody).workload;
      return { subject: `${AUDIT_INDEX_PREFIX}.${AuditIndexKind.Placement}.${auditIndexToken(w.namespace, w.name)}`, entry };
    }
    case RecordType.Attestation: {
      const w = (record.body as AttestationBody).attestation.workload;
      return { subject: `${AUDIT_INDEX_PREFIX}.${AuditIndexKind.Attestation}.${auditIndexToken(w.namespace, w.name)}`, entry };
    }
    case RecordType.Key:
    case RecordType.MemberKey:
      return { subject: subjects.auditIndexKeys(record.chain), entry };
    default:
      return { subject: `${AUDIT_INDEX_PREFIX}.${AuditIndexKind.Other}`, entry };
  }
}

/** The index subject of a workload's placement records. */
export function auditIndexPlacements(namespace: string, name: string): string {
  return `${AUDIT_INDEX_PREFIX}.${AuditIndexKind.Placement}.${auditIndexToken(namespace, name)}`;
}

function parseEntry(data: Uint8Array): AuditIndexEntry | undefined {
  try {
    const e = JSON.parse(new TextDecoder().decode(data)) as Partial<AuditIndexEntry>;
    return typeof e.seq === "number" && Number.isSafeInteger(e.seq) && e.seq > 0 ? { seq: e.seq, chain: String(e.chain ?? ""), id: String(e.id ?? ""), type: String(e.type ?? ""), time: String(e.time ?? "") } : undefined;
  } catch {
    return undefined;
  }
}

/** The audit sequence of the index's last entry (0: an empty index). */
export async function lastIndexedSequence(jsm: JetStreamManager): Promise<number> {
  const info = await jsm.streams.info(streams.auditIndex);
  if (info.state.last_seq === 0 || info.state.messages === 0) return 0;
  const m = await jsm.streams.getMessage(streams.auditIndex, { seq: info.state.last_seq });
  return (m && parseEntry(m.data)?.seq) || 0;
}

/**
 * The messages of `stream` on `filter` from `since` (stored time) or `startSeq`, oldest
 * first, up to what was pending when the read began: an ephemeral consumer counts its
 * pending messages when created, so a read always ends even while new ones arrive.
 */
async function* readRange(params: {
  jsm: JetStreamManager; js: JetStreamClient; stream: string; filter: string; since?: Date | undefined; startSeq?: number | undefined; batch?: number;
}): AsyncGenerator<{ data: Uint8Array; seq: number; time: Date }> {
  const name = `audit-index-read-${nuid.next()}`;
  const start = params.startSeq ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: params.startSeq }
    : params.since ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: params.since.toISOString() } : { deliver_policy: DeliverPolicy.All };
  const info = await params.jsm.consumers.add(params.stream, {
    name, ack_policy: AckPolicy.None, filter_subject: params.filter, ...start, mem_storage: true,
    // Cleaned up by the server if this reader dies mid-way.
    inactive_threshold: 60_000 * 1_000_000,
  });
  let remaining = info.num_pending;
  try {
    const consumer = await params.js.consumers.get(params.stream, name);
    let emptyBatches = 0;
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, params.batch ?? 256), expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        remaining--;
        yield { data: m.data, seq: m.seq, time: m.time };
        if (remaining === 0) break;
      }
      emptyBatches = got === 0 ? emptyBatches + 1 : 0;
      if (emptyBatches >= 3) throw new FederationError(`reading ${params.stream} stalled with ${remaining} messages pending`, { retryable: true });
    }
  } finally {
    await params.jsm.consumers.delete(params.stream, name).catch(() => undefined);
  }
}

/** The entries on one index subject, from `since` (the entry's stored time, never earlier than its record's), each audit sequence once. */
export async function* readAuditIndex(params: { jsm: JetStreamManager; js: JetStreamClient; subject: string; since?: Date | undefined }): AsyncGenerator<AuditIndexEntry> {
  let last = 0;
  for await (const m of readRange({ ...params, stream: streams.auditIndex, filter: params.subject })) {
    const e = parseEntry(m.data);
    // Entries are written in audit order; a repeat (two indexers past the duplicate window) is dropped.
    if (!e || e.seq <= last) continue;
    last = e.seq;
    yield e;
  }
}

/** The audit messages `entries` point to, in their order, fetched `window` at a time. */
export async function* fetchIndexed(params: { jsm: JetStreamManager; entries: AsyncIterable<AuditIndexEntry>; window?: number }): AsyncGenerator<{ entry: AuditIndexEntry; data: Uint8Array; storedAt: Date }> {
  const window = params.window ?? 32;
  let pending: AuditIndexEntry[] = [];
  const flush = async function* (batch: AuditIndexEntry[]) {
    const got = await Promise.all(batch.map((e) => params.jsm.streams.getMessage(streams.audit, { seq: e.seq }).catch((err: unknown) => {
      // Aged out of the audit stream (max_age) since it was indexed: nothing to return.
      if (err instanceof JetStreamApiError && err.code === 10037 /* no message found */) return null;
      throw err;
    })));
    for (let i = 0; i < batch.length; i++) {
      const m = got[i];
      if (m) yield { entry: batch[i]!, data: m.data, storedAt: m.time };
    }
  };
  for await (const e of params.entries) {
    pending.push(e);
    if (pending.length >= window) {
      yield* flush(pending);
      pending = [];
    }
  }
  if (pending.length) yield* flush(pending);
}

/**
 * Follows the audit stream and writes its index. Runs in every control plane (not only
 * the leader): each serves queries and waits, before answering one from the index, until
 * its own indexer has passed the audit stream's last sequence at the time of the query.
 */
export class AuditIndexer {
  readonly #js: JetStreamClient;
  readonly #jsm: () => Promise<JetStreamManager>;
  readonly #log: Logger | undefined;
  readonly #window: number;
  #through = 0;
  #running = false;
  readonly #waiters = new Set<{ seq: number; resolve: () => void }>();

  constructor(params: { js: JetStreamClient; jsm: () => Promise<JetStreamManager>; log?: Logger; window?: number }) {
    this.#js = params.js;
    this.#jsm = params.jsm;
    this.#log = params.log;
    this.#window = params.window ?? 256;
  }

  /** Every audit message up to this stream sequence has its entry. */
  get indexedThrough(): number {
    return this.#through;
  }

  /** Whether this indexer is following the stream (queries fall back to a scan when not). */
  get running(): boolean {
    return this.#running;
  }

  #advance(seq: number): void {
    this.#through = seq;
    for (const w of this.#waiters) {
      if (w.seq <= seq) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Whether the index holds every audit message stored when this is called, waiting up
   * to `timeoutMs` for the indexer to get there. False: answer by a scan instead.
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    if (!this.#running) return false;
    const jsm = await this.#jsm();
    const last = (await jsm.streams.info(streams.audit)).state.last_seq;
    if (this.#through >= last) return true;
    let waiter: { seq: number; resolve: () => void } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reached = await Promise.race([
      new Promise<boolean>((resolve) => {
        waiter = { seq: last, resolve: () => resolve(true) };
        this.#waiters.add(waiter);
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (waiter) this.#waiters.delete(waiter);
    return reached;
  }

  readonly name = "audit-index";
  readonly needLeaderElection = false;

  /** Runs the indexer until `signal` aborts; a failure (NATS gone) is logged and the indexer resumes where it is sure it got. */
  async start(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      const before = this.#through;
      try {
        await this.#run(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.#log?.warn({ err, indexedThrough: this.#through }, "audit indexer failed; resuming");
      }
      if (signal.aborted) break;
      delay = this.#through > before ? 500 : Math.min(delay * 2, 30_000);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
  }

  /** Indexes what is missing, then every new audit message, until `signal` aborts. */
  async #run(signal: AbortSignal): Promise<void> {
    const jsm = await this.#jsm();
    // After a failure mid-way, an entry past the last acknowledged one may be stored while
    // an earlier one is not: resume after what this process saw acknowledged in order (the
    // repeats are stored once, by their Nats-Msg-Id), else after the index's last entry.
    const last = await lastIndexedSequence(jsm);
    const start = (this.#through > 0 ? Math.min(this.#through, last) : last) + 1;
    const behind = (await jsm.streams.info(streams.audit)).state.last_seq - start + 1;
    if (behind > 0) this.#log?.info({ from: start, messages: behind }, "indexing the audit stream");
    this.#through = start - 1;
    const consumer = await this.#js.consumers.get(streams.audit, {
      filter_subjects: subjects.allAudit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start,
    });
    const messages = await consumer.consume({ max_messages: this.#window });
    const stop = () => void messages.stop();
    signal.addEventListener("abort", stop, { once: true });
    // Aborted while the consumer was being set up: the listener came too late to hear it.
    if (signal.aborted) stop();
    this.#running = true;
    // Publishes in flight, in audit order; the oldest is awaited once the window is full.
    const inflight: { seq: number; ack: Promise<unknown> }[] = [];
    const settle = async (keep: number) => {
      while (inflight.length > keep) {
        const { seq, ack } = inflight.shift()!;
        await ack;
        this.#advance(seq);
      }
    };
    try {
      for await (const m of messages) {
        const { subject, entry } = auditIndexEntryOf({ data: m.data, streamSequence: m.seq });
        inflight.push({ seq: m.seq, ack: this.#js.publish(subject, JSON.stringify(entry), { msgID: String(m.seq) }) });
        // Caught up with what is stored: no reason to hold the last entries back.
        await settle(m.info.pending === 0 ? 0 : this.#window);
      }
      await settle(0);
    } finally {
      this.#running = false;
      signal.removeEventListener("abort", stop);
      await Promise.allSettled(inflight.map((i) => i.ack));
    }
  }
}
