/**
 * Reading one export line back into a record, strictly: the exact set of fields, each of
 * its type and alphabet, and the line byte for byte in canonical form. Strictness is what
 * makes an edit visible: a verifier that accepted "close enough" would let an edit that
 * keeps the meaning (an escaped character, a reordered field) pass unseen, and one that
 * ignored an unknown field would let a field be added after signing.
 */
import { canonicalJson } from "./canonical.ts";
import { LEDGER_VERSION, PlacementAction, RecordType } from "./record.ts";
import type { AttestationBody, LedgerRecord } from "./record.ts";

export class ShapeError extends Error {
  override readonly name = "ShapeError";
}

const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
const HASH = HEX(64);
const KEY_ID = HEX(32);
const SIG = HEX(128);
const COUNTRY = /^[A-Z]{2}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string, keys: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ShapeError(`${path} is not an object`);
  const o = v as Obj;
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) throw new ShapeError(`${path} has an unknown field "${k}"`);
  for (const k of keys) if (!(k in o)) throw new ShapeError(`${path} has no "${k}"`);
  return o;
}
function str(v: unknown, path: string, pattern?: RegExp): string {
  if (typeof v !== "string") throw new ShapeError(`${path} is not a string`);
  if (pattern && !pattern.test(v)) throw new ShapeError(`${path} ${JSON.stringify(v.slice(0, 80))} is not of the form ${pattern.source}`);
  return v;
}
function int(v: unknown, path: string, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new ShapeError(`${path} is not a whole number ≥ ${min}`);
  return v;
}
function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw new ShapeError(`${path} is not true or false`);
  return v;
}
function strs(v: unknown, path: string): string[] {
  if (!Array.isArray(v)) throw new ShapeError(`${path} is not a list`);
  return v.map((x, i) => str(x, `${path}[${i}]`));
}
function time(v: unknown, path: string): string {
  const s = str(v, path, ISO_MS);
  if (Number.isNaN(Date.parse(s)) || new Date(s).toISOString() !== s) throw new ShapeError(`${path} "${s}" is not a real instant`);
  return s;
}
function nullable<T>(v: unknown, f: (v: unknown) => T): T | null {
  return v === null ? null : f(v);
}
function workload(v: unknown, path: string): void {
  const w = obj(v, path, ["namespace", "name", "uid"]);
  for (const k of ["namespace", "name", "uid"]) str(w[k], `${path}.${k}`);
}

function checkBody(type: string, v: unknown): void {
  const p = "body";
  switch (type) {
    case RecordType.Key: {
      const b = obj(v, p, ["keyId", "publicKey", "previousKey", "validUntil"]);
      str(b.keyId, `${p}.keyId`, KEY_ID);
      str(b.publicKey, `${p}.publicKey`, HASH);
      nullable(b.previousKey, (x) => str(x, `${p}.previousKey`, KEY_ID));
      nullable(b.validUntil, (x) => time(x, `${p}.validUntil`));
      return;
    }
    case RecordType.Placement: {
      const b = obj(v, p, ["action", "workload", "generation", "cluster", "country", "replicas", "decidedBy", "reasons", "fromCluster", "facts", "residencyPolicy", "requirements"]);
      if (!Object.values(PlacementAction).includes(b.action as PlacementAction)) throw new ShapeError(`${p}.action ${JSON.stringify(b.action)} is not one of ${Object.values(PlacementAction).join(", ")}`);
      workload(b.workload, `${p}.workload`);
      int(b.generation, `${p}.generation`, 0);
      str(b.cluster, `${p}.cluster`);
      str(b.country, `${p}.country`, COUNTRY);
      int(b.replicas, `${p}.replicas`, 0);
      str(b.decidedBy, `${p}.decidedBy`);
      strs(b.reasons, `${p}.reasons`);
      str(b.fromCluster, `${p}.fromCluster`);
      str(b.residencyPolicy, `${p}.residencyPolicy`);
      nullable(b.facts, (x) => {
        const f = obj(x, `${p}.facts`, ["country", "jurisdiction", "region", "provider", "extraterritorialExposure", "certifications"]);
        for (const k of ["country", "jurisdiction", "region", "provider"]) str(f[k], `${p}.facts.${k}`);
        strs(f.extraterritorialExposure, `${p}.facts.extraterritorialExposure`);
        if (!Array.isArray(f.certifications)) throw new ShapeError(`${p}.facts.certifications is not a list`);
        f.certifications.forEach((c, i) => {
          const o = obj(c, `${p}.facts.certifications[${i}]`, ["name", "version", "validUntil"]);
          for (const k of ["name", "version", "validUntil"]) str(o[k], `${p}.facts.certifications[${i}].${k}`);
        });
      });
      nullable(b.requirements, (x) => {
        const r = obj(x, `${p}.requirements`, ["allowedCountries", "allowedJurisdictions", "requiredCertifications", "forbidExtraterritorialExposure"]);
        for (const k of ["allowedCountries", "allowedJurisdictions", "requiredCertifications"]) strs(r[k], `${p}.requirements.${k}`);
        bool(r.forbidExtraterritorialExposure, `${p}.requirements.forbidExtraterritorialExposure`);
      });
      return;
    }
    case RecordType.MemberKey: {
      const b = obj(v, p, ["member", "keyId", "publicKey"]);
      str(b.member, `${p}.member`);
      str(b.keyId, `${p}.keyId`, KEY_ID);
      str(b.publicKey, `${p}.publicKey`, HASH);
      return;
    }
    case RecordType.Attestation: {
      const b = obj(v, p, ["attestation", "memberKey", "memberSig"]);
      const a = obj(b.attestation, `${p}.attestation`, ["member", "workload", "deployment", "pods", "seq", "observedAt"]);
      str(a.member, `${p}.attestation.member`);
      workload(a.workload, `${p}.attestation.workload`);
      str(a.deployment, `${p}.attestation.deployment`);
      int(a.pods, `${p}.attestation.pods`, 0);
      int(a.seq, `${p}.attestation.seq`, 1);
      time(a.observedAt, `${p}.attestation.observedAt`);
      str(b.memberKey, `${p}.memberKey`, KEY_ID);
      str(b.memberSig, `${p}.memberSig`, SIG);
      return;
    }
    case RecordType.Head: {
      const b = obj(v, p, ["first", "last", "since", "until"]);
      for (const k of ["first", "last"]) {
        nullable(b[k], (x) => {
          const at = obj(x, `${p}.${k}`, ["seq", "hash"]);
          int(at.seq, `${p}.${k}.seq`, 1);
          str(at.hash, `${p}.${k}.hash`, HASH);
        });
      }
      nullable(b.since, (x) => time(x, `${p}.since`));
      nullable(b.until, (x) => time(x, `${p}.until`));
      return;
    }
    default:
      throw new ShapeError(`type ${JSON.stringify(type)} is not one of ${Object.values(RecordType).join(", ")}`);
  }
}

const CHAIN_FIELDS = ["v", "federation", "chain", "seq", "prev", "type", "id", "time", "key", "body", "hash", "sig"] as const;
const HEAD_FIELDS = CHAIN_FIELDS.filter((f) => f !== "seq" && f !== "prev");

/** Checks a parsed JSON value is a v1 record; throws ShapeError naming the first field that is not. */
export function checkRecord(value: unknown): LedgerRecord {
  const head = typeof value === "object" && value !== null && (value as Obj).type === RecordType.Head;
  const r = obj(value, "record", head ? HEAD_FIELDS : CHAIN_FIELDS);
  if (r.v !== LEDGER_VERSION) throw new ShapeError(`v ${JSON.stringify(r.v)} is not format version ${LEDGER_VERSION}`);
  str(r.federation, "federation", /^[\x21-\x7e]{1,253}$/);
  str(r.chain, "chain", COUNTRY);
  if (!head) {
    int(r.seq, "seq", 1);
    str(r.prev, "prev", HASH);
  }
  str(r.type, "type");
  str(r.id, "id", /^[\x21-\x7e]{1,512}$/);
  time(r.time, "time");
  str(r.key, "key", KEY_ID);
  str(r.hash, "hash", HASH);
  str(r.sig, "sig", SIG);
  checkBody(r.type as string, r.body);
  return value as LedgerRecord;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A member's attestation as it publishes it (the body of an `attestation` record), from
 * its bytes: valid UTF-8 JSON of exactly that shape, in canonical form, so that what the
 * control plane appends is byte for byte what the member signed. Throws ShapeError.
 */
export function parseAttestationBody(bytes: Uint8Array): AttestationBody {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new ShapeError(`the attestation is not UTF-8 JSON (${(err as Error).message})`);
  }
  checkBody(RecordType.Attestation, value);
  if (canonicalJson(value) !== decoder.decode(bytes)) throw new ShapeError("the attestation is not in canonical form (RFC 8785)");
  return value as AttestationBody;
}

/** One line of an export: valid UTF-8, JSON, a v1 record, and exactly its own canonical form. */
export function parseLine(bytes: Uint8Array): LedgerRecord {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ShapeError("the line is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ShapeError(`the line is not JSON (${(err as Error).message})`);
  }
  const record = checkRecord(value);
  if (canonicalJson(record) !== text) throw new ShapeError("the line is not in canonical form (RFC 8785): its bytes were changed after it was written");
  return record;
}

/** The canonical line of a record, as stored on the stream and written to an export (no newline). */
export function lineOf(record: LedgerRecord): string {
  return canonicalJson(record);
}
