// Member attestations as agents sign them (their NATS nkey, ed25519, over the ledger's
// canonical bytes) checked by the offline verifier: a real member-signed attestation
// verifies, and a changed one, a replayed one or one signed before its key was declared
// is a finding; the gaps between a workload's attestations are reported as information.
import assert from "node:assert/strict";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { memberSigningKey, publicKeyOfNkey, seedOf } from "../../../operator/src/federation/index.ts";
import {
  attestationGaps, canonicalBytes, headRecord, keyRecord, lineOf, nextRecord, RecordType, signAttestation, SigningKey, tailOf, verifyLedger,
} from "../../../operator/src/ledger/index.ts";
import type { Attestation, AttestationBody, Body, ChainTail, LedgerRecord } from "../../../operator/src/ledger/index.ts";

const FED = "fed-attest";
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);

function member() {
  const kp = createUser();
  const seed = new TextDecoder().decode(kp.getSeed());
  return { kp, seed, key: memberSigningKey({ nkeySeed: seed }), publicKey: publicKeyOfNkey(kp.getPublicKey()) };
}

function attestation(over: Partial<Attestation> & { seq: number; at: number }): Attestation {
  const { at, ...rest } = over;
  return { member: "ovh-par-1", workload: { namespace: "health", name: "records", uid: "uid-1" }, deployment: "health/records", pods: 2, observedAt: new Date(at).toISOString(), ...rest };
}

/** One FR chain: the host's key, then `entries` (member keys and attestations), then its head. */
function chain(entries: { type: RecordType; id: string; body: Body; at: number }[]): { lines: string[]; records: LedgerRecord[]; data: Buffer; host: SigningKey } {
  const host = SigningKey.generate();
  const records: LedgerRecord[] = [];
  let tail: ChainTail | undefined;
  const push = (r: LedgerRecord) => {
    records.push(r);
    tail = tailOf(r);
  };
  push(keyRecord({ federation: FED, chain: "FR", tail, key: host, time: new Date(T0) }));
  for (const e of entries) push(nextRecord({ federation: FED, chain: "FR", tail, type: e.type, id: e.id, time: new Date(e.at), body: e.body, signer: host }));
  const head = headRecord({ federation: FED, chain: "FR", first: records[0], last: records.at(-1), since: undefined, until: undefined, time: new Date(T0 + 3_600_000), signer: host });
  const lines = [...records, head].map(lineOf);
  return { lines, records, data: Buffer.from(`${lines.join("\n")}\n`), host };
}

const declare = (m: ReturnType<typeof member>, at: number, name = "ovh-par-1") =>
  ({ type: RecordType.MemberKey, id: `member-key:${name}:${m.key.keyId}:${at}`, body: { member: name, keyId: m.key.keyId, publicKey: m.publicKey }, at });
const attest = (body: AttestationBody, at: number) => ({ type: RecordType.Attestation, id: `attestation:${body.attestation.member}:${body.attestation.seq}`, body, at });

describe("ledger: member attestations signed with the member's NATS nkey", () => {
  it("signs with the nkey's own ed25519 key: nkeys verifies the signature, and signs the same bytes alike", () => {
    const m = member();
    assert.equal(m.key.publicKey, m.publicKey);
    const data = canonicalBytes(attestation({ seq: 1, at: T0 }));
    const sig = m.key.sign(data);
    assert.ok(m.kp.verify(data, Buffer.from(sig, "hex")));
    // ed25519 is deterministic: the same key gives the same signature.
    assert.equal(Buffer.from(m.kp.sign(data)).toString("hex"), sig);
    // Positive control: another member's nkey does not verify it.
    assert.ok(!member().kp.verify(data, Buffer.from(sig, "hex")));
  });

  it("finds the seed in a creds file as in a bare seed, and refuses what is no seed", () => {
    const m = member();
    const creds = `-----BEGIN NATS USER JWT-----\neyJhbGciOi.x.y\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${m.seed}\n------END USER NKEY SEED------\n`;
    assert.equal(seedOf({ creds }), m.seed);
    assert.equal(memberSigningKey({ creds }).keyId, m.key.keyId);
    assert.throws(() => memberSigningKey({ nkeySeed: "SUNOTASEED" }), /not valid/);
    assert.throws(() => publicKeyOfNkey("UNOTAKEY"), /not a public nkey/);
    assert.equal(fromSeed(new TextEncoder().encode(m.seed)).getPublicKey(), m.kp.getPublicKey());
  });

  it("verifies an export holding the member's key and its signed attestations, counted per member", () => {
    const m = member();
    const { data } = chain([
      declare(m, T0 + 1000),
      attest(signAttestation(attestation({ seq: T0 + 2000, at: T0 + 2000 }), m.key), T0 + 2100),
      attest(signAttestation(attestation({ seq: T0 + 12_000, at: T0 + 12_000, pods: 1 }), m.key), T0 + 12_100),
    ]);
    const report = verifyLedger({ data });
    assert.deepEqual(report.findings, []);
    assert.equal(report.checked.attestations, 2);
    assert.deepEqual(report.checked.attestationsByMember, { "ovh-par-1": 2 });
  });

  it("finds an attestation whose pod count was changed after the member signed it, naming its record (the host re-chained and re-signed it)", () => {
    const m = member();
    const good = signAttestation(attestation({ seq: T0 + 2000, at: T0 + 2000, pods: 2 }), m.key);
    const forged: AttestationBody = { ...good, attestation: { ...good.attestation, pods: 5 } };
    const { data, lines } = chain([declare(m, T0 + 1000), attest(forged, T0 + 2100)]);
    const report = verifyLedger({ data });
    assert.equal(report.findings.length, 1, JSON.stringify(report.findings));
    assert.deepEqual(
      { line: report.findings[0]!.line, id: report.findings[0]!.recordId },
      { line: 3, id: `attestation:ovh-par-1:${T0 + 2000}` },
    );
    assert.match(report.findings[0]!.problem, /ovh-par-1's signature of the attestation does not verify \(it says 5 pods of health\/records/);
    assert.equal(report.checked.attestations, 0);
    assert.equal(lines.length, 4);
  });

  it("finds a replay of a real member-signed attestation appended again later, and nothing without it", () => {
    const m = member();
    const first = signAttestation(attestation({ seq: T0 + 2000, at: T0 + 2000 }), m.key);
    const second = signAttestation(attestation({ seq: T0 + 12_000, at: T0 + 12_000 }), m.key);
    const clean = chain([declare(m, T0 + 1000), attest(first, T0 + 2100), attest(second, T0 + 12_100)]);
    assert.deepEqual(verifyLedger({ data: clean.data }).findings, []);
    const replayed = chain([declare(m, T0 + 1000), attest(first, T0 + 2100), attest(second, T0 + 12_100), { ...attest(first, T0 + 20_000), id: "attestation:ovh-par-1:again" }]);
    const findings = verifyLedger({ data: replayed.data }).findings;
    assert.equal(findings.length, 1, JSON.stringify(findings));
    assert.equal(findings[0]!.recordId, "attestation:ovh-par-1:again");
    assert.match(findings[0]!.problem, new RegExp(`attestation ${T0 + 2000} of member ovh-par-1 replays an old one \\(line 4 had ${T0 + 12_000}\\)`));
  });

  it("checks each attestation with the key the member had then: a changed key is a new declaration, and a key used before it was declared is a finding", () => {
    const a = member();
    const b = { ...member() };
    const withB = (seq: number) => signAttestation(attestation({ seq, at: seq }), b.key);
    const rotated = chain([
      declare(a, T0 + 1000), attest(signAttestation(attestation({ seq: T0 + 2000, at: T0 + 2000 }), a.key), T0 + 2100),
      declare(b, T0 + 3000), attest(withB(T0 + 4000), T0 + 4100),
    ]);
    assert.deepEqual(verifyLedger({ data: rotated.data }).findings, []);
    const early = chain([declare(a, T0 + 1000), attest(withB(T0 + 2000), T0 + 2100), declare(b, T0 + 3000)]);
    const findings = verifyLedger({ data: early.data }).findings;
    assert.equal(findings.length, 1, JSON.stringify(findings));
    assert.match(findings[0]!.problem, new RegExp(`names member key ${b.key.keyId}, which no member-key record declared for member ovh-par-1 by`));
    // A declaration whose key id is not its public key's is a finding of its own.
    const lying = chain([{ ...declare(a, T0 + 1000), body: { member: "ovh-par-1", keyId: b.key.keyId, publicKey: a.publicKey } }]);
    assert.match(verifyLedger({ data: lying.data }).findings[0]?.problem ?? "", /is not the id of the public key it declares/);
  });

  it("checks the attestations of an export --since with the member key declared before the range, which the export carries like the chain's keys", () => {
    const m = member();
    const full = chain([
      declare(m, T0 + 1000),
      attest(signAttestation(attestation({ seq: T0 + 2000, at: T0 + 2000 }), m.key), T0 + 2100),
      attest(signAttestation(attestation({ seq: T0 + 12_000, at: T0 + 12_000 }), m.key), T0 + 12_100),
    ]);
    const [key, memberKey, , inRange] = full.records;
    const exported = (keep: LedgerRecord[]) => {
      const head = headRecord({ federation: FED, chain: "FR", first: inRange, last: inRange, since: new Date(T0 + 10_000), until: undefined, time: new Date(T0 + 3_600_000), signer: full.host });
      return Buffer.from(`${[...keep, head].map(lineOf).join("\n")}\n`);
    };
    const report = verifyLedger({ data: exported([key!, memberKey!, inRange!]) });
    assert.deepEqual(report.findings, []);
    assert.equal(report.checked.attestations, 1);
    // Without the member key (an export that left it out) the attestation cannot be checked.
    assert.match(verifyLedger({ data: exported([key!, inRange!]) }).findings.map((f) => f.problem).join("\n"), /whose key no member-key record declares/);
  });

  it("reports the silences between a workload's attestations longer than the period plus slack, as gaps and not findings", () => {
    const m = member();
    const at = [0, 10, 20, 65, 75].map((s) => T0 + 5000 + s * 1000);
    const { data } = chain([declare(m, T0 + 1000), ...at.map((t) => attest(signAttestation(attestation({ seq: t, at: t }), m.key), t + 100))]);
    const report = verifyLedger({ data, attestationPeriodMs: 10_000, attestationSlackMs: 5000 });
    assert.deepEqual(report.findings, []);
    assert.deepEqual(report.gaps, [{ member: "ovh-par-1", workload: { namespace: "health", name: "records", uid: "uid-1" }, from: new Date(at[2]!).toISOString(), to: new Date(at[3]!).toISOString(), seconds: 45 }]);
    // With the default period (5 minutes) the same silence is no gap.
    assert.deepEqual(verifyLedger({ data }).gaps, []);
  });
});

describe("ledger: attestationGaps", () => {
  const a = (member: string, uid: string, s: number) => ({ member, workload: { namespace: "ns", name: uid, uid }, observedAt: new Date(T0 + s * 1000).toISOString() });
  const cases: { name: string; input: ReturnType<typeof a>[]; gaps: [string, string, number][] }[] = [
    { name: "none: every step within period + slack", input: [a("m", "u", 0), a("m", "u", 15), a("m", "u", 30)], gaps: [] },
    { name: "one: a step just over period + slack", input: [a("m", "u", 0), a("m", "u", 16)], gaps: [["m", "u", 16]] },
    { name: "per workload: another workload's attestations do not fill a gap", input: [a("m", "u", 0), a("m", "v", 10), a("m", "u", 40)], gaps: [["m", "u", 40]] },
    { name: "per member: the same workload on two members", input: [a("m", "u", 0), a("n", "u", 10), a("m", "u", 12), a("n", "u", 50)], gaps: [["n", "u", 40]] },
    { name: "in time order whatever the input order", input: [a("m", "u", 60), a("m", "u", 0), a("m", "u", 10)], gaps: [["m", "u", 50]] },
    { name: "nothing before the first or after the last", input: [a("m", "u", 100)], gaps: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const gaps = attestationGaps({ attestations: c.input, periodMs: 10_000, slackMs: 5000 });
      assert.deepEqual(gaps.map((g) => [g.member, g.workload.uid, g.seconds]), c.gaps);
    });
  }
});
