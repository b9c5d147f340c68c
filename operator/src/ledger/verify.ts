/**
 * Verifying an export offline: nothing but the file (and, optionally, the keys an auditor
 * trusts). Every problem is a finding naming the line, the record id and what is wrong;
 * verification goes on after a finding, so one run lists everything.
 *
 * Per chain (country), in file order: positions ascend one by one from the head's first
 * to its last, each `prev` is the hash of the record before, nothing follows the head's
 * last and nothing before its first but the chain's key records (an export from --since
 * carries them so signatures can be checked); every hash is recomputed and every
 * signature checked with the key the chain had declared at that position, inside that
 * key's validity; rotation records are signed by the key they replace; times never go
 * backwards; every placement is re-checked against the facts and requirements it
 * records; attestations are checked against the key their member was declared with
 * (a member-key record no later than the attestation's record) and their `seq` must move
 * forward, and the time between a workload's attestations is reported where it exceeds
 * the agents' period (gaps, information). The head, signed at export time, is what shows
 * a record dropped from the end.
 */
import type { KeyObject } from "node:crypto";
import { attestationGaps } from "./attestation.ts";
import type { AttestationGap } from "./attestation.ts";
import { canonicalBytes } from "./canonical.ts";
import { keyIdOf, publicKeyFromHex, verifySignature } from "./keys.ts";
import { parseLine, ShapeError } from "./parse.ts";
import { hashOf, PlacementAction, RecordType, signedPart, ZERO_HASH } from "./record.ts";
import type { Attestation, AttestationBody, HeadBody, KeyBody, LedgerRecord, MemberKeyBody, PlacementBody } from "./record.ts";
import { residencyViolations } from "./residency.ts";

export interface Finding {
  /** 1-based line of the export; 0 for a finding about a whole chain with no line to point at. */
  line: number;
  recordId: string;
  chain: string;
  problem: string;
}

export interface ChainSummary {
  chain: string;
  records: number;
  first: number | null;
  last: number | null;
  from: string | null;
  to: string | null;
}

export interface KeySummary {
  chain: string;
  keyId: string;
  publicKey: string;
  validFrom: string;
  /** When the next key record replaced it, or its declared end; null while current. */
  validUntil: string | null;
  /** A self-signed key that starts its chain: trust in it comes from outside the file. */
  anchor: boolean;
}

export interface VerifyReport {
  findings: Finding[];
  checked: {
    lines: number;
    records: number;
    heads: number;
    chains: ChainSummary[];
    signatures: number;
    /** Attestations whose member signature verified, in all and per member. */
    attestations: number;
    attestationsByMember: Record<string, number>;
    placements: number;
    keys: KeySummary[];
    federation: string | null;
    from: string | null;
    to: string | null;
  };
  /**
   * Information, not findings: a workload's attestations farther apart than the agents'
   * period plus slack, time in which its member confirmed nothing (attestation.ts).
   */
  gaps: AttestationGap[];
}

/** The agents' default period (at least one attestation per workload every 5 minutes) and the slack a gap needs beyond it. */
export const DEFAULT_ATTESTATION_PERIOD_MS = 5 * 60_000;
export const DEFAULT_ATTESTATION_SLACK_MS = 60_000;

interface Line {
  line: number;
  record: LedgerRecord;
}

interface ActiveKey {
  keyId: string;
  key: KeyObject;
  validFrom: string;
  validUntil: string | null;
  summary: KeySummary;
}

/** Splits an export into lines; a final newline ends the last line, it does not start an empty one. */
export function splitLines(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      out.push(data.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

export function verifyLedger({ data, trust, federation, attestationPeriodMs = DEFAULT_ATTESTATION_PERIOD_MS, attestationSlackMs = DEFAULT_ATTESTATION_SLACK_MS }: {
  data: Uint8Array;
  /** Key ids an auditor obtained out of band: a chain anchored on any other key is a finding. */
  trust?: readonly string[];
  /** The federation the export must be of; by default the one most records name. */
  federation?: string;
  /** The agents' attestation period and the slack beyond it before a silence is shown as a gap. */
  attestationPeriodMs?: number;
  attestationSlackMs?: number;
}): VerifyReport {
  const findings: Finding[] = [];
  const find = (line: number, record: Pick<LedgerRecord, "id" | "chain"> | undefined, problem: string) =>
    findings.push({ line, recordId: record?.id ?? "", chain: record?.chain ?? "", problem });
  const lines = splitLines(data);
  const parsed: Line[] = [];
  lines.forEach((bytes, i) => {
    if (bytes.length === 0) return void find(i + 1, undefined, "empty line");
    try {
      parsed.push({ line: i + 1, record: parseLine(bytes) });
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      // Name the record if the line still says which one it is.
      let id = "";
      try {
        id = String((JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown }).id ?? "");
      } catch { /* unreadable: no id */ }
      findings.push({ line: i + 1, recordId: id, chain: "", problem: err.message });
    }
  });

  // Content: every hash recomputed, ids unique, one federation.
  const ids = new Map<string, number>();
  const fedCounts = new Map<string, number>();
  for (const { line, record } of parsed) {
    if (hashOf(record) !== record.hash) find(line, record, `hash ${record.hash.slice(0, 12)}… does not match the record's content (it was changed after it was written)`);
    const seen = ids.get(record.id);
    if (seen !== undefined) find(line, record, `record id already used on line ${seen}`);
    else ids.set(record.id, line);
    fedCounts.set(record.federation, (fedCounts.get(record.federation) ?? 0) + 1);
  }
  const expectedFederation = federation ?? [...fedCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
  for (const { line, record } of parsed) {
    if (record.federation !== expectedFederation) find(line, record, `record of federation "${record.federation}" in an export of federation "${expectedFederation}"`);
  }

  const byChain = new Map<string, { records: Line[]; heads: Line[] }>();
  for (const l of parsed) {
    const c = byChain.get(l.record.chain) ?? { records: [], heads: [] };
    (l.record.type === RecordType.Head ? c.heads : c.records).push(l);
    byChain.set(l.record.chain, c);
  }

  // Every key each member was declared with, and from when: a member whose key changed has
  // a new member-key record, and its older attestations stay checkable with the older key.
  const memberKeys = new Map<string, { keyId: string; key: KeyObject | undefined; time: string }[]>();
  for (const { line, record } of parsed) {
    if (record.type !== RecordType.MemberKey) continue;
    const b = record.body as MemberKeyBody;
    let key: KeyObject | undefined;
    try {
      key = publicKeyFromHex(b.publicKey);
      if (keyIdOf(b.publicKey) !== b.keyId) find(line, record, `member key id ${b.keyId} is not the id of the public key it declares`);
    } catch {
      find(line, record, "body.publicKey is not an ed25519 public key");
    }
    memberKeys.set(b.member, [...(memberKeys.get(b.member) ?? []), { keyId: b.keyId, key, time: record.time }]);
  }
  const attestationSeq = new Map<string, { seq: number; line: number }>();
  const attestationsByMember: Record<string, number> = {};
  const attested: Attestation[] = [];

  let signatures = 0;
  let attestations = 0;
  let placements = 0;
  const keys: KeySummary[] = [];
  const chains: ChainSummary[] = [];
  let from = null as string | null;
  let to = null as string | null;
  const trusted = trust && trust.length > 0 ? new Set(trust) : undefined;

  const checkSig = (line: number, record: LedgerRecord, key: KeyObject, keyId: string) => {
    if (verifySignature(key, canonicalBytes(signedPart(record)), record.sig)) signatures++;
    else find(line, record, `signature does not verify with key ${keyId}`);
  };

  for (const chain of [...byChain.keys()].sort()) {
    const { records, heads } = byChain.get(chain)!;
    if (heads.length === 0) find(0, { id: "", chain }, `chain ${chain} has no head record: nothing shows that records were not dropped from its end`);
    if (heads.length > 1) for (const h of heads.slice(1)) find(h.line, h.record, `a second head for chain ${chain} (the first is on line ${heads[0]!.line})`);
    const head = heads[0];
    const headBody = head?.record.body as HeadBody | undefined;
    // With a head that names no first record, everything of the chain here must be key records.
    const runStart = headBody ? (headBody.first?.seq ?? Number.POSITIVE_INFINITY) : 1;

    let active: ActiveKey | undefined;
    const declared = new Map<string, ActiveKey>();
    let previous: Line | undefined;
    let count = 0;
    for (const current of records) {
      const { line, record } = current;
      const seq = record.seq!;
      count++;
      from = from === null || record.time < from ? record.time : from;
      to = to === null || record.time > to ? record.time : to;

      // Position and link.
      if (previous) {
        const p = previous.record;
        if (seq <= p.seq!) {
          find(line, record, seq === p.seq ? `position ${seq} appears twice (also line ${previous.line})` : `out of order: position ${seq} comes after position ${p.seq} (line ${previous.line})`);
        } else if (seq === p.seq! + 1) {
          if (record.prev !== p.hash) find(line, record, `prev does not match the hash of position ${p.seq} (line ${previous.line}): the chain is broken here`);
        } else if (seq > runStart) {
          find(line, record, `positions ${p.seq! + 1}..${seq - 1} are missing between line ${previous.line} and this line`);
        }
        if (record.time < p.time) find(line, record, `time ${record.time} is earlier than position ${p.seq}'s ${p.time} (line ${previous.line})`);
      } else if (seq === 1) {
        if (record.prev !== ZERO_HASH) find(line, record, "the chain's first record must have a zero prev");
      } else if (seq > runStart) {
        find(line, record, `positions ${runStart}..${seq - 1} are missing before this line`);
      }
      if (seq < runStart && record.type !== RecordType.Key && record.type !== RecordType.MemberKey) find(line, record, `position ${seq} is before the exported range (from ${runStart}) and is neither a key nor a member-key record`);
      if (headBody?.last && seq > headBody.last.seq) find(line, record, `position ${seq} is after the chain's head (${headBody.last.seq}, line ${head!.line})`);
      if (!previous || seq > previous.record.seq!) previous = current;

      // Keys and signatures.
      if (record.type === RecordType.Key) {
        const b = record.body as KeyBody;
        let key: KeyObject | undefined;
        try {
          key = publicKeyFromHex(b.publicKey);
        } catch {
          find(line, record, "body.publicKey is not an ed25519 public key");
        }
        if (keyIdOf(b.publicKey) !== b.keyId) find(line, record, `key id ${b.keyId} is not the id of the public key it declares`);
        if (b.previousKey === null) {
          if (record.key !== b.keyId) find(line, record, `a first key must sign its own record, but it is signed by ${record.key}`);
          if (active) find(line, record, `a new self-signed key ${b.keyId} in the middle of chain ${chain}: a key may only be introduced by the key it replaces (${active.keyId})`);
          if (trusted && !trusted.has(b.keyId)) find(line, record, `the chain is anchored on key ${b.keyId}, which is not among the trusted keys`);
          if (key) checkSig(line, record, key, b.keyId);
        } else {
          if (record.key !== b.previousKey) find(line, record, `a rotation must be signed by the key it replaces (${b.previousKey}), but it is signed by ${record.key}`);
          if (!active) find(line, record, `rotation from ${b.previousKey}, which no earlier key record of chain ${chain} declares`);
          else if (active.keyId !== b.previousKey) find(line, record, `rotation from ${b.previousKey}, but the chain's key at this position is ${active.keyId}`);
          const signer = declared.get(record.key);
          if (signer) checkSig(line, record, signer.key, record.key);
          else find(line, record, `signed by key ${record.key}, which no key record of chain ${chain} declares`);
        }
        if (key) {
          if (active && active.summary.validUntil === null) active.summary.validUntil = record.time;
          const summary: KeySummary = { chain, keyId: b.keyId, publicKey: b.publicKey, validFrom: record.time, validUntil: b.validUntil, anchor: b.previousKey === null };
          keys.push(summary);
          active = { keyId: b.keyId, key, validFrom: record.time, validUntil: b.validUntil, summary };
          declared.set(b.keyId, active);
        }
      } else {
        const signer = declared.get(record.key);
        if (!signer) {
          find(line, record, `signed by key ${record.key}, which no key record of chain ${chain} declares`);
        } else {
          if (active && signer.keyId !== active.keyId) find(line, record, `signed by key ${signer.keyId}, which key ${active.keyId} replaced at ${active.validFrom}`);
          if (record.time < signer.validFrom || (signer.validUntil !== null && record.time > signer.validUntil)) {
            find(line, record, `signed by key ${signer.keyId} at ${record.time}, outside its validity (${signer.validFrom} to ${signer.validUntil ?? "open"})`);
          }
          checkSig(line, record, signer.key, signer.keyId);
        }
      }

      if (record.type === RecordType.Placement) checkPlacement(current);
      if (record.type === RecordType.Attestation) checkAttestation(current);
    }

    if (head) {
      const h = head.record;
      const signer = h.key === active?.keyId ? active : undefined;
      if (!signer) find(head.line, h, `the head is signed by ${h.key}, not by the chain's current key ${active?.keyId ?? "(none declared)"}`);
      else checkSig(head.line, h, signer.key, signer.keyId);
      const byPosition = new Map(records.map((l) => [l.record.seq!, l]));
      const lastLine = records.at(-1);
      if (headBody!.last === null) {
        if (records.some((l) => l.record.seq! >= runStart && l.record.type !== RecordType.Key)) find(head.line, h, `the head says the export holds none of chain ${chain}'s range, yet it does`);
      } else {
        const at = byPosition.get(headBody!.last.seq);
        if (!at) find(head.line, h, `the head says chain ${chain} ends at position ${headBody!.last.seq}, but the export ends at ${lastLine?.record.seq ?? "nothing"}${lastLine ? ` (line ${lastLine.line})` : ""}: records were dropped from the end`);
        else if (at.record.hash !== headBody!.last.hash) find(at.line, at.record, `the head (line ${head.line}) says position ${headBody!.last.seq} has hash ${headBody!.last.hash.slice(0, 12)}…, this record has ${at.record.hash.slice(0, 12)}…`);
        if (lastLine && h.time < lastLine.record.time) find(head.line, h, `the head's time ${h.time} is before its chain's last record (${lastLine.record.time})`);
      }
      if (headBody!.first) {
        const at = byPosition.get(headBody!.first.seq);
        if (!at) find(head.line, h, `the head says the export of chain ${chain} starts at position ${headBody!.first.seq}, which is missing`);
        else if (at.record.hash !== headBody!.first.hash) find(at.line, at.record, `the head (line ${head.line}) says position ${headBody!.first.seq} has another hash`);
      }
    }
    const seqs = records.map((l) => l.record.seq!);
    chains.push({
      chain, records: count,
      first: seqs.length ? Math.min(...seqs) : null, last: seqs.length ? Math.max(...seqs) : null,
      from: records[0]?.record.time ?? null, to: records.at(-1)?.record.time ?? null,
    });
  }

  function checkPlacement({ line, record }: Line): void {
    const b = record.body as PlacementBody;
    placements++;
    if (b.country !== record.chain) find(line, record, `a placement in country ${b.country} recorded in chain ${record.chain}`);
    if (b.facts && b.facts.country !== b.country) find(line, record, `facts say country ${b.facts.country}, the record says ${b.country}`);
    const adds = (b.action === PlacementAction.Placed || b.action === PlacementAction.Moved) && b.replicas > 0;
    if (!adds) return;
    if (!b.facts || !b.requirements) {
      find(line, record, `a placement on ${b.cluster} without the ${b.facts ? "requirements" : "facts"} it was decided on: it cannot be re-checked`);
      return;
    }
    const reasons = residencyViolations({ facts: b.facts, requirements: b.requirements, at: new Date(record.time) });
    if (reasons.length > 0) find(line, record, `placement of ${b.replicas} replicas of ${b.workload.namespace}/${b.workload.name} on ${b.cluster} was not compliant at ${record.time}: ${reasons.join(", ")}`);
  }

  function checkAttestation({ line, record }: Line): void {
    const b = record.body as AttestationBody;
    const a = b.attestation;
    const declared = memberKeys.get(a.member) ?? [];
    if (declared.length === 0) return void find(line, record, `attestation by member ${a.member}, whose key no member-key record declares`);
    const member = declared.find((k) => k.keyId === b.memberKey && k.time <= record.time);
    if (!member) return void find(line, record, `attestation names member key ${b.memberKey}, which no member-key record declared for member ${a.member} by ${record.time} (declared: ${declared.map((k) => k.keyId).join(", ")})`);
    if (!member.key) return;
    if (!verifySignature(member.key, canonicalBytes(a), b.memberSig)) find(line, record, `member ${a.member}'s signature of the attestation does not verify (it says ${a.pods} pods of ${a.workload.namespace}/${a.workload.name}, seq ${a.seq})`);
    else {
      attestations++;
      attestationsByMember[a.member] = (attestationsByMember[a.member] ?? 0) + 1;
      attested.push(a);
    }
    const last = attestationSeq.get(a.member);
    if (last && a.seq <= last.seq) find(line, record, `attestation ${a.seq} of member ${a.member} replays an old one (line ${last.line} had ${last.seq})`);
    if (!last || a.seq > last.seq) attestationSeq.set(a.member, { seq: a.seq, line });
  }

  const chainRecords = parsed.filter((l) => l.record.type !== RecordType.Head).length;
  return {
    findings: findings.sort((a, b) => a.line - b.line),
    checked: {
      lines: lines.length, records: chainRecords, heads: parsed.length - chainRecords, chains, signatures, attestations, attestationsByMember, placements, keys,
      federation: expectedFederation, from, to,
    },
    // Only attestations whose signature held: a forged one shows no coverage.
    gaps: attestationGaps({ attestations: attested, periodMs: attestationPeriodMs, slackMs: attestationSlackMs }),
  };
}
