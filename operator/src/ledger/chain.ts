/**
 * Making records: link to the tail of a chain, hash, sign. Pure apart from the signature
 * (ed25519 is deterministic, so the same inputs give the same record).
 */
import { canonicalBytes } from "./canonical.ts";
import type { SigningKey } from "./keys.ts";
import { hashOf, LEDGER_VERSION, RecordType, signedPart, ZERO_HASH } from "./record.ts";
import type { Body, HeadBody, KeyBody, LedgerRecord, UnsignedRecord } from "./record.ts";

/** Where a chain ends: the position and hash of its last record, and who signed it. */
export interface ChainTail {
  seq: number;
  hash: string;
  /** Key id that signed the last record. */
  key: string;
}

export function tailOf(record: LedgerRecord): ChainTail {
  return { seq: record.seq ?? 0, hash: record.hash, key: record.key };
}

export function signRecord(unsigned: UnsignedRecord, signer: SigningKey): LedgerRecord {
  if (unsigned.key !== signer.keyId) throw new Error(`record ${unsigned.id} names key ${unsigned.key} but is signed with ${signer.keyId}`);
  const part = signedPart(unsigned);
  return { ...part, hash: hashOf(part), sig: signer.sign(canonicalBytes(part)) };
}

/** The next record of a chain after `tail` (undefined: the chain is empty). */
export function nextRecord(params: {
  federation: string;
  chain: string;
  tail: ChainTail | undefined;
  type: RecordType;
  id: string;
  time: Date;
  body: Body;
  signer: SigningKey;
}): LedgerRecord {
  return signRecord({
    v: LEDGER_VERSION,
    federation: params.federation,
    chain: params.chain,
    seq: (params.tail?.seq ?? 0) + 1,
    prev: params.tail?.hash ?? ZERO_HASH,
    type: params.type,
    id: params.id,
    time: params.time.toISOString(),
    key: params.signer.keyId,
    body: params.body,
  }, params.signer);
}

/** A key record for `key`: self-signed when it starts a chain, else signed by `previous`, which it replaces. */
export function keyRecord(params: {
  federation: string;
  chain: string;
  tail: ChainTail | undefined;
  key: SigningKey;
  previous?: SigningKey | undefined;
  time: Date;
  validUntil?: Date | undefined;
}): LedgerRecord {
  const body: KeyBody = {
    keyId: params.key.keyId,
    publicKey: params.key.publicKey,
    previousKey: params.previous?.keyId ?? null,
    validUntil: params.validUntil?.toISOString() ?? null,
  };
  return nextRecord({
    federation: params.federation,
    chain: params.chain,
    tail: params.tail,
    type: RecordType.Key,
    id: `key:${params.chain}:${params.key.keyId}`,
    time: params.time,
    body,
    signer: params.previous ?? params.key,
  });
}

/** The signed statement, made at export time, of which part of a chain an export holds. */
export function headRecord(params: {
  federation: string;
  chain: string;
  first: LedgerRecord | undefined;
  last: LedgerRecord | undefined;
  since: Date | undefined;
  until: Date | undefined;
  time: Date;
  signer: SigningKey;
}): LedgerRecord {
  const at = (r: LedgerRecord | undefined) => (r ? { seq: r.seq ?? 0, hash: r.hash } : null);
  const body: HeadBody = { first: at(params.first), last: at(params.last), since: params.since?.toISOString() ?? null, until: params.until?.toISOString() ?? null };
  return signRecord({
    v: LEDGER_VERSION,
    federation: params.federation,
    chain: params.chain,
    type: RecordType.Head,
    id: `head:${params.chain}:${body.last?.seq ?? 0}:${params.time.toISOString()}`,
    time: params.time.toISOString(),
    key: params.signer.keyId,
    body,
  }, params.signer);
}
