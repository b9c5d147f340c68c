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
import type { Body, ChainTail, LedgerRecord , SigningKey} from "../../ledger/index.ts";
import { FederationError } from "../errors.ts";
import { placementBodyOf } from "./audit-records.ts";
import type { FederationPublisher } from "./jetstream.ts";
import { streams, subjects } from "./protocol.ts";

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

/** The server's "wrong last sequence": someone appended to the chain after the tail we linked to. */
function isWrongLastSequence(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof JetStreamApiError && (e.code === JetStreamApiCodes.StreamWrongLastSequence || e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) return true;
  }
  return false;
}

export class LedgerWriter {
  readonly #publisher: Pick<FederationPublisher, "audit">;
  readonly #jsm: () => Promise<JetStreamManager>;
  readonly #keys: LedgerKeys;
  readonly #now: () => Date;
  readonly #log: Logger | undefined;
  readonly #maxAttempts: number;
  readonly #tails = new Map<string, Tail>();
  /** One append in flight per chain in this process; other processes are held off by the stream. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(params: { publisher: Pick<FederationPublisher, "audit">; jsm: () => Promise<JetStreamManager>; keys: LedgerKeys; now?: () => Date; log?: Logger; maxAttempts?: number }) {
    this.#publisher = params.publisher;
    this.#jsm = params.jsm;
    this.#keys = params.keys;
    this.#now = params.now ?? (() => new Date());
    this.#log = params.log;
    this.#maxAttempts = params.maxAttempts ?? 16;
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

  append(entry: { chain: string; type: RecordType; id: string; body: Body; time?: Date | undefined }): Promise<Appended> {
    subjects.audit(entry.chain); // validates the country before anything is queued
    const previous = this.#queues.get(entry.chain) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#append(entry));
    this.#queues.set(entry.chain, run);
    void run.finally(() => {
      if (this.#queues.get(entry.chain) === run) this.#queues.delete(entry.chain);
    }).catch(() => undefined);
    return run;
  }

  async #tailOf(chain: string): Promise<Tail | undefined> {
    const cached = this.#tails.get(chain);
    if (cached) return cached;
    const read = await readChainTail(await this.#jsm(), chain);
    if (!read) return undefined;
    if (read.record.federation !== this.#keys.federation) {
      throw new LedgerChainError(`chain ${chain} belongs to federation "${read.record.federation}", this control plane writes for "${this.#keys.federation}"`);
    }
    const tail = { streamSeq: read.streamSeq, tail: tailOf(read.record), time: read.record.time };
    this.#tails.set(chain, tail);
    return tail;
  }

  /** Publishes one record linked to `tail`; returns the new tail, or undefined when another writer got there first. */
  async #publish(chain: string, tail: Tail | undefined, record: LedgerRecord): Promise<Tail | undefined> {
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
    if (ack.duplicate) return { streamSeq: ack.seq, tail: tail?.tail ?? tailOf(record), time: record.time };
    const next = { streamSeq: ack.seq, tail: tailOf(record), time: record.time };
    this.#tails.set(chain, next);
    return next;
  }

  async #append(entry: { chain: string; type: RecordType; id: string; body: Body; time?: Date | undefined }): Promise<Appended> {
    const { federation, key, previous } = this.#keys;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      let tail = await this.#tailOf(entry.chain);
      // Times never go backwards within a chain, even across two control planes whose clocks differ.
      const at = (t?: Date) => {
        const base = t ?? this.#now();
        return tail && Date.parse(tail.time) > base.getTime() ? new Date(tail.time) : base;
      };
      let lost = false;
      if (!tail || tail.tail.key !== key.keyId) {
        const signer = !tail ? undefined : previous && tail.tail.key === previous.keyId ? previous : undefined;
        if (tail && !signer) {
          throw new LedgerChainError(`chain ${entry.chain} is signed by key ${tail.tail.key}, which this control plane does not hold: it cannot introduce its key ${key.keyId} there (put the previous key in the signing Secret to rotate)`);
        }
        // At the entry's own time, so the record that follows keeps the time it was decided at.
        const introduce = keyRecord({ federation, chain: entry.chain, tail: tail?.tail, key, previous: signer, time: at(entry.time) });
        const after = await this.#publish(entry.chain, tail, introduce);
        if (!after) lost = true;
        else {
          this.#log?.info({ chain: entry.chain, key: key.keyId, previous: signer?.keyId }, signer ? "rotated the audit chain's key" : "started an audit chain");
          tail = after;
        }
      }
      if (!lost) {
        const record = nextRecord({ federation, chain: entry.chain, tail: tail!.tail, type: entry.type, id: entry.id, time: at(entry.time), body: entry.body, signer: key });
        const after = await this.#publish(entry.chain, tail, record);
        if (after) return { record, streamSequence: after.streamSeq };
      }
      this.#log?.debug({ chain: entry.chain, id: entry.id, attempt }, "another writer appended to the audit chain first; re-linking");
    }
    throw new FederationError(`appending ${entry.id} to the audit chain ${entry.chain}: another writer kept appending first (${this.#maxAttempts} attempts)`, { retryable: true });
  }
}

/** A fresh federation id, for a signing Secret created at first start. */
export function newFederationId(): string {
  return `federation-${randomUUID()}`;
}
