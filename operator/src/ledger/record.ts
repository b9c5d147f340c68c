/**
 * The ledger's record format (version 1). One record is one JSON object, stored on its
 * country's audit subject and written as one line of an export:
 *
 *   { v, federation, chain, seq, prev, type, id, time, key, body, hash, sig }
 *
 * - `chain` is the country (ISO 3166-1 alpha-2): one hash chain per country subject.
 * - `seq` is the position in the chain (1 for the first record), `prev` the `hash` of the
 *   record at seq - 1 (64 zeros for the first).
 * - `hash` is SHA-256 of the canonical bytes (canonical.ts) of the record without `hash`
 *   and `sig`; `sig` is the ed25519 signature of those same bytes by the key `key` names.
 * - `federation` names the federation, so a record of another federation is told apart
 *   even where its shape is perfect.
 * - `type` says what `body` holds: a signing key (`key`, rotation is a record signed by
 *   the previous key), a placement change (`placement`), a member's attestation key
 *   (`member-key`) and what it attested (`attestation`), or, in exports only and outside
 *   the chain (no `seq`, no `prev`), the signed `head` that says where each exported chain
 *   ends, so that a record dropped from the end is seen.
 *
 * Hex, lowercase, for hashes, keys and signatures: a strict alphabet with one spelling per
 * value (base64's last character carries spare bits that decoders ignore, so two texts
 * would decode to one signature and an edit could go unseen).
 */
import { createHash } from "node:crypto";
import { canonicalBytes } from "./canonical.ts";

export const LEDGER_VERSION = 1;
export const ZERO_HASH = "0".repeat(64);

export const RecordType = {
  Key: "key",
  Placement: "placement",
  MemberKey: "member-key",
  Attestation: "attestation",
  Head: "head",
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const PlacementAction = {
  Placed: "Placed",
  Moved: "Moved",
  Evicted: "Evicted",
  Rejected: "Rejected",
} as const;
export type PlacementAction = (typeof PlacementAction)[keyof typeof PlacementAction];

/** A signing key of the control plane; valid from the record's time until the next key record of the chain (or `validUntil`). */
export interface KeyBody {
  keyId: string;
  /** Raw ed25519 public key, 32 bytes, hex. */
  publicKey: string;
  /** The key this one replaces, which signs this record; null for a chain's first (self-signed) key. */
  previousKey: string | null;
  validUntil: string | null;
}

export interface CertificationFact {
  name: string;
  version: string;
  validUntil: string;
}

/** The member's residency facts as the host's admin declared them, at decision time. */
export interface FactsBody {
  country: string;
  jurisdiction: string;
  region: string;
  provider: string;
  extraterritorialExposure: string[];
  certifications: CertificationFact[];
}

/** The workload's residency requirements at decision time (policy and inline together). */
export interface RequirementsBody {
  allowedCountries: string[];
  allowedJurisdictions: string[];
  requiredCertifications: string[];
  forbidExtraterritorialExposure: boolean;
}

export interface PlacementBody {
  action: PlacementAction;
  workload: { namespace: string; name: string; uid: string };
  generation: number;
  cluster: string;
  country: string;
  /** Replicas on `cluster` after the change. */
  replicas: number;
  decidedBy: string;
  reasons: string[];
  fromCluster: string;
  facts: FactsBody | null;
  residencyPolicy: string;
  requirements: RequirementsBody | null;
}

/** A member's own attestation key (its NATS nkey is ed25519), declared by the host when the member joins. */
export interface MemberKeyBody {
  member: string;
  keyId: string;
  publicKey: string;
}

/** What a member signed with its own key: what runs there, per workload. */
export interface Attestation {
  member: string;
  workload: { namespace: string; name: string; uid: string };
  deployment: string;
  pods: number;
  /** Strictly increasing per member: an attestation seen again, or an older one, is a replay. */
  seq: number;
  observedAt: string;
}

export interface AttestationBody {
  attestation: Attestation;
  /** The member's key id (a member-key record declares it). */
  memberKey: string;
  /** ed25519 over canonical bytes of `attestation`, hex. */
  memberSig: string;
}

export interface HeadBody {
  /** The first and last records of the chain in this export (null: none in range). */
  first: { seq: number; hash: string } | null;
  last: { seq: number; hash: string } | null;
  since: string | null;
  until: string | null;
}

export type Body = KeyBody | PlacementBody | MemberKeyBody | AttestationBody | HeadBody;

/** A record as signed: everything but `hash` and `sig`. */
export interface UnsignedRecord {
  v: typeof LEDGER_VERSION;
  federation: string;
  chain: string;
  /** Absent only on heads. */
  seq?: number;
  prev?: string;
  type: RecordType;
  id: string;
  /** RFC 3339, UTC, milliseconds: Date.prototype.toISOString. */
  time: string;
  /** Key id of the signer. */
  key: string;
  body: Body;
}

export interface LedgerRecord extends UnsignedRecord {
  hash: string;
  sig: string;
}

/** What is hashed and signed: the record without `hash` and `sig`. */
export function signedPart(record: UnsignedRecord | LedgerRecord): UnsignedRecord {
  const { hash: _h, sig: _s, ...rest } = record as LedgerRecord;
  return rest;
}

export function hashOf(record: UnsignedRecord | LedgerRecord): string {
  return createHash("sha256").update(canonicalBytes(signedPart(record))).digest("hex");
}
