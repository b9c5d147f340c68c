/**
 * Writing the audit ledger (operator/src/ledger) onto the audit stream: one hash chain per
 * country subject, each record linked to the chain's tail, signed, and published as its
 * canonical JSON line.
 *
 * One writer at a time per chain, enforced by JetStream rather than by us: every publish
 * carries Nats-Expected-Last-Subject-Sequence, the stream sequence of the tail it was
 * linked to. If anyone else appended to the chain meanwhile (a second control plane
 * during a leader change, a standby that still thinks it leads, this process before a
 * restart), the server refuses the publish (wrong last sequence) and we re-read the tail,
 * re-link, re-sign and try again. Two writers can therefore never both append after the
 * same record: the chain cannot fork, and a restarted control plane continues from what
 * the stream holds, not from what it remembers. We chose this over a leader-only writer
 * because leadership is a Lease with a renew deadline: for a moment an old leader can
 * still write, and only the stream itself can decide who was first.
 */
import { randomUUID } from "node:crypto";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { AuditRecord } from "../../gen/sovereign/v1/audit.ts";
import { keyRecord, nextRecord, parseLine, RecordType, tailOf } from "../../ledger/index.ts";
import type { Body, ChainTail, KeyBody, LedgerRecord, SigningKey } from "../../ledger/index.ts";
import { FederationError } from "../errors.ts";
import { placementBodyOf } from "./audit-records.ts";
import type { FederationPublisher } from "./jetstream.ts";
import { parseSubject, streams, subjects } from "./protocol.ts";

/** The control plane's ledger identity: which federation it writes for and the key it signs with. */
export interface LedgerKeys {
  federation: string;
  key: SigningKey;
  /** The key being rotated away from: it signs the key record that introduces `key` on each chain. */
  previous?: SigningKey | undefined;
}

/** A chain that this control plane cannot continue (another federation's, or signed by a key it does not hold). */
export class LedgerChainError extends FederationError {
  override readonly name = "LedgerChainError";
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * The tail the next record links to, with the chain's current key: for a key record the
 * key it introduces, not the previous key that signed it (a rotated chain is on the new
 * key from its key record on, and must not get a second one).
 */
export function chainTailOf(record: LedgerRecord): ChainTail {
  const tail = tailOf(record);
  return record.type === RecordType.Key ? { ...tail, key: (record.body as KeyBody).keyId } : tail;
}

/** The newest record of a chain and its stream sequence, read from the stream. */
export async function readChainTail(jsm: JetStreamManager, country: string): Promise<{ streamSeq: number; record: LedgerRecord } | undefined> {
  const m = await jsm.streams.getMessage(streams.audit, { last_by_subj: subjects.audit(country) });
  if (!m) return undefined;
  let record: LedgerRecord;
  try {
    record = parseLine(m.data);
  } catch (err) {
    throw new LedgerChainError(`the last message on ${subjects.audit(country)} (stream sequence ${m.seq}) is not a ledger record: ${(err as Error).message}`);
  }
  return { streamSeq: m.seq, record };
}

/** The chains the audit stream holds: one per country subject with at least one message. */
export async function listChains(jsm: JetStreamManager): Promise<string[]> {
  const info = await jsm.streams.info(streams.audit, { subjects_filter: subjects.allAudit });
  const chains: string[] = [];
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const parsed = parseSubject(subject);
    if (parsed?.kind === "audit") chains.push(parsed.country);
  }
  return chains.sort();
}

/** A record as appended, and where the stream stored it. */
export interface Appended {
  record: LedgerRecord;
  streamSequence: number;
}

interface Tail {
  streamSeq: number;
  tail: ChainTail;
  time: string;
}

/** JetStream's refusal of an atomic batch holding a Nats-Msg-Id the stream already has (nats-server 2.12+). */
const BATCH_HOLDS_DUPLICATE = 10201;

function isDuplicateInBatch(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof JetStreamApiError && e.code === BATCH_HOLDS_DUPLICATE) return true;
  }
  return false;
}

/** The server's "wrong last sequence": someone appended to the chain after the tail we linked to. */
function isWrongLastSequence(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof JetStreamApiError && (e.code === JetStreamApiCodes.StreamWrongLastSequence || e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) return true;
  }
  return false;
}

type Entry = { chain: string; type: RecordType; id: string; body: Body; time?: Date | undefined };

interface Pending {
  /** Undefined: nothing to append but the key record the chain may need (rotateChains). */
  entry: Entry | undefined;
  resolve: (a: Appended | undefined) => void;
  reject: (err: unknown) => void;
}

/** JetStream takes at most 1,000 messages in one atomic batch; a key record may lead it. */
const MAX_BATCH = 500;

export class LedgerWriter {
  readonly #publisher: Pick<FederationPublisher, "audit" | "auditBatch">;
  readonly #jsm: () => Promise<JetStreamManager>;
  readonly #keys: LedgerKeys;
  readonly #now: () => Date;
  readonly #log: Logger | undefined;
  readonly #maxAttempts: number;
  readonly #maxBatch: number;
  readonly #tails = new Map<string, Tail>();
  /**
   * Group commit, per chain: one batch in flight; what arrives meanwhile waits and goes as
   * the next batch. A chain's records are linked one after the other, so one writer can
   * append only as fast as the stream acknowledges; appending them one fsync each capped a
   * chain at about 20 records a second on a loaded machine, a batch costs one fsync for all.
   */
  readonly #pending = new Map<string, Pending[]>();
  readonly #draining = new Set<string>();

  constructor(params: {
    publisher: Pick<FederationPublisher, "audit" | "auditBatch">; jsm: () => Promise<JetStreamManager>; keys: LedgerKeys; now?: () => Date; log?: Logger; maxAttempts?: number;
    /** Records of one chain appended in one atomic batch at most (default 500). */
    maxBatch?: number;
  }) {
    this.#publisher = params.publisher;
    this.#jsm = params.jsm;
    this.#keys = params.keys;
    this.#now = params.now ?? (() => new Date());
    this.#log = params.log;
    this.#maxAttempts = params.maxAttempts ?? 16;
    this.#maxBatch = Math.max(1, Math.min(params.maxBatch ?? MAX_BATCH, MAX_BATCH));
  }

  get federation(): string {
    return this.#keys.federation;
  }

  get key(): SigningKey {
    return this.#keys.key;
  }

  /** Appends a placement audit record to its country's chain (the record id is the Nats-Msg-Id: a retry is stored once). */
  appendAudit(record: AuditRecord): Promise<Appended> {
    if (!record.recordId) throw new LedgerChainError("audit record has no recordId: it is the Nats-Msg-Id that keeps retries from duplicating evidence");
    return this.append({ chain: record.country, type: RecordType.Placement, id: record.recordId, body: placementBodyOf(record), time: record.time });
  }

  /**
   * Moves every chain still on the previous key to this control plane's key, each with a
   * key record signed by the previous key, and returns the chains it moved. A chain is
   * otherwise moved only by its next append: one nothing was appended to between two
   * rotations would stay on a key two rotations old, which no control plane holds any
   * more (it could neither continue that chain nor sign an export's head for it). Run at
   * start-up when the signing Secret holds a previous key; safe beside another control
   * plane doing the same (the chain's expected last sequence lets one of them write).
   */
  async rotateChains(): Promise<string[]> {
    const previous = this.#keys.previous;
    if (!previous) return [];
    const moved: string[] = [];
    for (const chain of await listChains(await this.#jsm())) {
      const tail = await this.#chainTailOf(chain);
      if (tail?.tail.key !== previous.keyId) continue;
      await this.#enqueue(chain, undefined);
      moved.push(chain);
    }
    return moved;
  }

  /**
   * Appends one record to its chain. Records of one chain are appended in the order of
   * the calls; those that arrive while a batch is in flight go together in the next one.
   */
  async append(entry: Entry): Promise<Appended> {
    return (await this.#enqueue(entry.chain, entry))!;
  }

  /** Queues `entry` on its chain; without one, only what the chain needs before any entry (its key record). */
  #enqueue(chain: string, entry: Entry | undefined): Promise<Appended | undefined> {
    subjects.audit(chain); // validates the country before anything is queued
    return new Promise<Appended | undefined>((resolve, reject) => {
      const queue = this.#pending.get(chain) ?? [];
      queue.push({ entry, resolve, reject });
      this.#pending.set(chain, queue);
      if (!this.#draining.has(chain)) void this.#drain(chain);
    });
  }

  async #drain(chain: string): Promise<void> {
    this.#draining.add(chain);
    try {
      for (;;) {
        const queue = this.#pending.get(chain);
        if (!queue?.length) {
          this.#pending.delete(chain);
          return;
        }
        const batch = queue.splice(0, this.#maxBatch);
        try {
          const entries = batch.flatMap((p) => (p.entry ? [p.entry] : []));
          const appended = await this.#appendBatch(chain, entries);
          let i = 0;
          for (const p of batch) p.resolve(p.entry ? appended[i++]! : undefined);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#draining.delete(chain);
    }
  }

  async #chainTailOf(chain: string): Promise<Tail | undefined> {
    const cached = this.#tails.get(chain);
    if (cached) return cached;
    const read = await readChainTail(await this.#jsm(), chain);
    if (!read) return undefined;
    if (read.record.federation !== this.#keys.federation) {
      throw new LedgerChainError(`chain ${chain} belongs to federation "${read.record.federation}", this control plane writes for "${this.#keys.federation}"`);
    }
    const tail = { streamSeq: read.streamSeq, tail: chainTailOf(read.record), time: read.record.time };
    this.#tails.set(chain, tail);
    return tail;
  }

  /**
   * Links `entries` after the chain's tail (after a key record when this control plane's
   * key is not the tail's yet), signs them, and returns them with the key record, if any,
   * first. Times never go backwards within a chain, even across two control planes whose
   * clocks differ; each record keeps the time it was decided at otherwise.
   */
  #link(chain: string, tail: Tail | undefined, entries: readonly Entry[]): { records: LedgerRecord[]; introduces: SigningKey | undefined; rotatedFrom: SigningKey | undefined } {
    const { federation, key, previous } = this.#keys;
    let link = tail?.tail;
    let lastTime = tail?.time;
    const at = (t?: Date) => {
      const base = t ?? this.#now();
      return lastTime && Date.parse(lastTime) > base.getTime() ? new Date(lastTime) : base;
    };
    const records: LedgerRecord[] = [];
    let introduces: SigningKey | undefined;
    let rotatedFrom: SigningKey | undefined;
    if (!tail || tail.tail.key !== key.keyId) {
      const signer = !tail ? undefined : previous && tail.tail.key === previous.keyId ? previous : undefined;
      if (tail && !signer) {
        throw new LedgerChainError(`chain ${chain} is signed by key ${tail.tail.key}, which this control plane does not hold: it cannot introduce its key ${key.keyId} there (put the previous key in the signing Secret to rotate)`);
      }
      const introduce = keyRecord({ federation, chain, tail: link, key, previous: signer, time: at(entries[0]?.time) });
      records.push(introduce);
      link = chainTailOf(introduce);
      lastTime = introduce.time;
      introduces = key;
      rotatedFrom = signer;
    }
    for (const e of entries) {
      const record = nextRecord({ federation, chain, tail: link!, type: e.type, id: e.id, time: at(e.time), body: e.body, signer: key });
      records.push(record);
      link = chainTailOf(record);
      lastTime = record.time;
    }
    return { records, introduces, rotatedFrom };
  }

  /**
   * Appends `entries` to the chain: linked to the tail the stream holds, published as
   * one atomic batch guarded by that tail's sequence; when another writer appended first,
   * re-read the tail and link again. A batch holding a record the stream already has (a
   * retried append) is refused whole; then each is appended on its own, where the
   * duplicate is recognised and stored once.
   */
  async #appendBatch(chain: string, entries: readonly Entry[], options: { atomic: boolean } = { atomic: true }): Promise<Appended[]> {
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const tail = await this.#chainTailOf(chain);
      const { records, introduces, rotatedFrom } = this.#link(chain, tail, entries);
      const firstEntry = records.length - entries.length;
      if (records.length === 0) return [];
      if (records.length === 1 || !options.atomic) {
        // One record after the other, each guarded by the tail before it.
        const appended: Appended[] = [];
        let at = tail;
        for (const record of records) {
          at = await this.#publishOne(chain, at, record);
          if (!at) break;
          appended.push({ record, streamSequence: at.streamSeq });
        }
        if (at) {
          if (introduces) this.#log?.info({ chain, key: introduces.keyId, previous: rotatedFrom?.keyId }, rotatedFrom ? "rotated the audit chain's key" : "started an audit chain");
          return appended.slice(firstEntry);
        }
      } else {
        let stored: { firstSeq: number; lastSeq: number } | undefined;
        try {
          stored = await this.#publisher.auditBatch(records, { expectedLastSubjectSequence: tail?.streamSeq ?? 0 });
        } catch (err) {
          this.#tails.delete(chain);
          if (isDuplicateInBatch(err)) return this.#appendEach(chain, entries);
          if (!isWrongLastSequence(err)) throw err;
        }
        if (stored) {
          const last = records.at(-1)!;
          this.#tails.set(chain, { streamSeq: stored.lastSeq, tail: chainTailOf(last), time: last.time });
          if (introduces) this.#log?.info({ chain, key: introduces.keyId, previous: rotatedFrom?.keyId }, rotatedFrom ? "rotated the audit chain's key" : "started an audit chain");
          return entries.map((_, i) => ({ record: records[firstEntry + i]!, streamSequence: stored.firstSeq + firstEntry + i }));
        }
      }
      this.#log?.debug({ chain, records: entries.length, attempt }, "another writer appended to the audit chain first; re-linking");
    }
    throw new FederationError(`appending ${entries.length} record(s) to the audit chain ${chain}: another writer kept appending first (${this.#maxAttempts} attempts)`, { retryable: true });
  }

  /** One at a time, each with its own key record when needed: the path for a batch that holds an already stored id. */
  async #appendEach(chain: string, entries: readonly Entry[]): Promise<Appended[]> {
    const out: Appended[] = [];
    for (const e of entries) out.push(...await this.#appendBatch(chain, [e], { atomic: false }));
    return out;
  }

  /** Publishes one record linked to `tail`; returns the new tail, or undefined when another writer got there first. */
  async #publishOne(chain: string, tail: Tail | undefined, record: LedgerRecord): Promise<Tail | undefined> {
    let ack: { seq: number; duplicate: boolean };
    try {
      ack = await this.#publisher.audit(record, { expectedLastSubjectSequence: tail?.streamSeq ?? 0 });
    } catch (err) {
      this.#tails.delete(chain);
      if (isWrongLastSequence(err)) return undefined;
      throw err;
    }
    this.#tails.delete(chain);
    // A duplicate id means an earlier attempt was stored (at ack.seq), with its own link: the tail is re-read next time.
    if (ack.duplicate) return { streamSeq: ack.seq, tail: tail?.tail ?? chainTailOf(record), time: record.time };
    const next = { streamSeq: ack.seq, tail: chainTailOf(record), time: record.time };
    this.#tails.set(chain, next);
    return next;
  }
}

/** A fresh federation id, for a signing Secret created at first start. */
export function newFederationId(): string {
  return `federation-${randomUUID()}`;
}
