import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, hashOf, lineOf, NotCanonicalizableError, RecordType, SigningKey, verifyLedger } from "../../../operator/src/ledger/index.ts";
import type { LedgerRecord, PlacementBody } from "../../../operator/src/ledger/index.ts";
import { runAuditLedger } from "../../../operator/src/cmd/kubectl-sovereign/audit-ledger.ts";
import { dataOf, FEDERATION, generateLedger, placement, resign } from "./generate.ts";

const gen = generateLedger();
const parse = (line: string) => JSON.parse(line) as LedgerRecord;
const lineIndex = (pred: (r: LedgerRecord) => boolean) => gen.lines.findIndex((l) => pred(parse(l)));
const fr = (seqOrType: number | string) => lineIndex((r) => r.chain === "FR" && (typeof seqOrType === "number" ? r.seq === seqOrType : r.type === seqOrType));
const frPlacements = gen.lines.map((l, i) => ({ r: parse(l), i })).filter(({ r }) => r.chain === "FR" && r.type === RecordType.Placement);

/** The lines with line `i` edited as JSON and written back in canonical form (hash and signature untouched). */
function edit(lines: readonly string[], i: number, change: (r: LedgerRecord) => void): string[] {
  const out = [...lines];
  const r = parse(out[i]!);
  change(r);
  out[i] = canonicalJson(r);
  return out;
}
const verify = (lines: readonly string[]) => verifyLedger({ data: dataOf(lines) });

/** `kubectl sovereign audit verify FILE` on `data`, offline: its exit status and what it printed. */
export async function verifyCommand(data: Uint8Array | undefined, args: string[] = []): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await runAuditLedger("verify", ["trail.jsonl", ...args], {
    stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), environment: {}, now: new Date(),
    files: { readBytes: async (p) => (data && p === "trail.jsonl" ? data : Promise.reject(new Error(`ENOENT: no such file, open '${p}'`))), writeText: async () => undefined },
    connect: () => Promise.reject(new Error("verify must not connect to anything")),
  });
  return { status, stdout, stderr };
}

/** The finding must be there, named (line, record id, what), and the command must exit 1 printing it. */
async function assertFinding(lines: readonly string[], pattern: RegExp, at?: { line: number }) {
  const { findings } = verify(lines);
  assert.ok(findings.length > 0, "expected findings, got none");
  const hit = findings.find((f) => pattern.test(f.problem) && (at === undefined || f.line === at.line));
  assert.ok(hit, `no finding matches ${pattern}${at ? ` on line ${at.line}` : ""}; findings:\n${findings.map((f) => `  ${f.line} ${f.recordId}: ${f.problem}`).join("\n")}`);
  const run = await verifyCommand(dataOf(lines));
  assert.equal(run.status, 1, run.stdout + run.stderr);
  const where = hit.line ? `line ${hit.line}` : `chain ${hit.chain}`;
  assert.ok(run.stdout.includes(`  ${where}${hit.recordId ? `, record ${hit.recordId}` : ""}: ${hit.problem}`), `the command names the finding:\n${run.stdout}`);
  return findings;
}

describe("ledger: canonical bytes (RFC 8785)", () => {
  it("sorts members by UTF-16 code units, writes no whitespace and escapes as JSON.stringify does", async () => {
    assert.equal(canonicalJson({ b: [1, "é\n"], a: { "\u00e9": true, z: null, "\ud83d\ude00": 1, A: false } }), '{"a":{"A":false,"z":null,"é":true,"😀":1},"b":[1,"é\\n"]}');
  });
  it("refuses what JSON cannot hold exactly: fractions, NaN, undefined, Dates", async () => {
    for (const v of [{ x: 1.5 }, { x: Number.NaN }, { x: undefined }, { x: new Date(0) }, { x: 2 ** 60 }]) assert.throws(() => canonicalJson(v), NotCanonicalizableError);
  });
  it("gives the same text whatever the order the members were built in", async () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (d) => {
      const reversed = Object.fromEntries(Object.entries(d).reverse());
      assert.equal(canonicalJson(d), canonicalJson(reversed));
      assert.equal(canonicalJson(JSON.parse(canonicalJson(d))), canonicalJson(d), "parsing the canonical text gives it back");
    }));
  });
});

describe("ledger: verify an export offline", () => {
  it("finds nothing in an untouched export and says what it checked (positive control)", async () => {
    const { findings, checked } = verify(gen.lines);
    assert.deepEqual(findings, []);
    assert.equal(checked.federation, FEDERATION);
    assert.deepEqual(checked.chains.map((c) => [c.chain, c.first, c.last]), [["DE", 1, 13], ["FR", 1, 18]]);
    assert.equal(checked.heads, 2);
    assert.equal(checked.records, gen.lines.length - 2);
    assert.equal(checked.signatures, gen.lines.length, "every record and head signature was checked");
    assert.equal(checked.attestations, 3);
    assert.deepEqual(checked.keys.map((k) => [k.chain, k.keyId, k.anchor]), [["DE", gen.keys.first.keyId, true], ["FR", gen.keys.first.keyId, true], ["FR", gen.keys.second.keyId, false]]);
    assert.ok(checked.from && checked.to && checked.from < checked.to);
  });

  it("finds a dropped record", async () => {
    const i = frPlacements[3]!.i;
    const lines = gen.lines.filter((_, j) => j !== i);
    await assertFinding(lines, /positions \d+\.\.\d+ are missing/, { line: i + 1 });
  });

  it("finds the last record dropped, from the signed head", async () => {
    const last = Math.max(...gen.records.filter((r) => r.chain === "FR" && r.seq).map((r) => r.seq!));
    const lines = gen.lines.filter((_, j) => j !== fr(last));
    await assertFinding(lines, /says chain FR ends at position \d+, but the export ends at \d+.*dropped from the end/);
  });

  it("finds a head dropped with the last record", async () => {
    const last = Math.max(...gen.records.filter((r) => r.chain === "FR" && r.seq).map((r) => r.seq!));
    const lines = gen.lines.filter((_, j) => j !== fr(last) && j !== fr(RecordType.Head));
    await assertFinding(lines, /chain FR has no head record/);
  });

  it("finds two records reordered", async () => {
    const [a, b] = [frPlacements[2]!.i, frPlacements[2]!.i + 1];
    const lines = [...gen.lines];
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    await assertFinding(lines, /out of order/, { line: b + 1 });
  });

  it("finds a country changed", async () => {
    const i = frPlacements[1]!.i;
    const lines = edit(gen.lines, i, (r) => {
      (r.body as PlacementBody).country = "DE";
    });
    const findings = await assertFinding(lines, /hash .* does not match/, { line: i + 1 });
    assert.ok(findings.some((f) => f.line === i + 1 && /signature does not verify/.test(f.problem)));
    assert.ok(findings.some((f) => f.line === i + 1 && /country DE recorded in chain FR/.test(f.problem)));
    assert.equal(findings.find((f) => f.line === i + 1)!.recordId, parse(gen.lines[i]!).id, "the finding names the record");
  });

  it("finds a replica count changed", async () => {
    const i = frPlacements[0]!.i;
    await assertFinding(edit(gen.lines, i, (r) => { (r.body as PlacementBody).replicas += 1; }), /signature does not verify/, { line: i + 1 });
  });

  it("finds a timestamp changed, even with the hash recomputed", async () => {
    const i = frPlacements[2]!.i;
    const lines = edit(gen.lines, i, (r) => {
      r.time = new Date(Date.parse(r.time) + 500).toISOString();
      r.hash = hashOf(r);
    });
    await assertFinding(lines, /signature does not verify/, { line: i + 1 });
    await assertFinding(lines, /prev does not match/, { line: i + 2 });
  });

  it("finds a forged signature", async () => {
    const i = frPlacements[4]!.i;
    await assertFinding(edit(gen.lines, i, (r) => { r.sig = SigningKey.generate().sign(Buffer.from("anything")); }), /signature does not verify/, { line: i + 1 });
  });

  it("finds a record re-signed with a key the chain never declared", async () => {
    const i = frPlacements[5]!.i;
    const intruder = SigningKey.generate();
    const lines = edit(gen.lines, i, (r) => {
      (r.body as PlacementBody).replicas = 9;
      r.key = intruder.keyId;
      const { hash: _h, sig: _s, ...rest } = r;
      r.hash = hashOf(rest);
      r.sig = intruder.sign(Buffer.from(canonicalJson(rest)));
    });
    await assertFinding(lines, new RegExp(`signed by key ${intruder.keyId}, which no key record of chain FR declares`), { line: i + 1 });
  });

  it("finds two countries' chains spliced together", async () => {
    // FR's records from position 6 on, replaced by DE's from position 6 on, relabelled FR.
    const de = gen.lines.map(parse).filter((r) => r.chain === "DE" && r.seq && r.seq >= 6);
    const keep = gen.lines.filter((l) => { const r = parse(l); return !(r.chain === "FR" && r.seq && r.seq >= 6); });
    const headAt = keep.findIndex((l) => parse(l).type === RecordType.Head);
    const spliced = de.map((r) => canonicalJson({ ...r, chain: "FR" }));
    const lines = [...keep.slice(0, headAt), ...spliced, ...keep.slice(headAt)];
    const findings = await assertFinding(lines, /signature does not verify/);
    assert.ok(findings.some((f) => /hash .* does not match|prev does not match|dropped from the end|head .* says/.test(f.problem)));
  });

  it("finds a record of another federation inserted, though its own hash and signature are good", async () => {
    const other = generateLedger({ federation: "fed-other", perChain: 12, keys: gen.keys });
    const foreign = other.lines.map(parse).find((r) => r.chain === "FR" && r.type === RecordType.Placement && r.seq === 4)!;
    const i = fr(4);
    const lines = [...gen.lines];
    lines[i] = lineOf(foreign);
    const findings = await assertFinding(lines, /record of federation "fed-other" in an export of federation "fed-3b1f0c2e"/, { line: i + 1 });
    assert.ok(!findings.some((f) => f.line === i + 1 && /signature does not verify|does not match the record's content/.test(f.problem)), "its own signature is good: only its federation (and the links) give it away");
  });

  it("finds an old attestation replayed as a new record, chained and signed by the host", async () => {
    const replayed = resign(gen, (records) => {
      const old = records.find((r) => r.type === RecordType.Attestation)!;
      const fr = records.filter((r) => r.chain === "FR");
      const last = fr.at(-1)!;
      return [...records, { ...old, id: "attestation:replayed", time: new Date(Date.parse(last.time) + 1000).toISOString(), key: last.key }];
    });
    await assertFinding(replayed.lines, /attestation 1 of member ovh-par-1 replays an old one/);
    // The same ledger without the replay is clean: the finding is the replay's.
    assert.deepEqual(verify(resign(gen, (r) => r).lines).findings, []);
  });

  it("finds a placement whose recorded facts did not satisfy its recorded requirements", async () => {
    const bad = resign(gen, (records) => records.map((r) => r.type === RecordType.Placement && r.id === "audit:FR:2"
      ? { ...r, body: placement("FR", 2, { facts: { ...(r.body as PlacementBody).facts!, certifications: [{ name: "HDS", version: "1.1", validUntil: "2026-11-27" }] } }) }
      : r));
    const findings = await assertFinding(bad.lines, /was not compliant at .*: MissingCertification, CertificationExpired/);
    assert.equal(findings.length, 1, "hashes and signatures are good: the placement is the only finding");
    assert.equal(findings[0]!.recordId, "audit:FR:2");
  });

  it("re-checks a placement with the scheduler's rules: an eviction needs no compliance, a placement in a country not allowed is a finding", async () => {
    const ok = resign(gen, (records) => records.map((r) => r.id === "audit:FR:4" ? { ...r, body: placement("FR", 4, { facts: { ...(r.body as PlacementBody).facts!, country: "FR", certifications: [] } }) } : r));
    assert.deepEqual(verify(ok.lines).findings, [], "audit:FR:4 is an eviction: its facts need not satisfy anything");
    const bad = resign(gen, (records) => records.map((r) => r.id === "audit:DE:1" ? { ...r, body: placement("DE", 1, { requirements: { allowedCountries: ["FR"], allowedJurisdictions: [], requiredCertifications: [], forbidExtraterritorialExposure: false } }) } : r));
    await assertFinding(bad.lines, /not compliant .*: CountryNotAllowed/);
  });

  it("finds a rotation not signed by the key it replaces", async () => {
    const intruder = SigningKey.generate();
    const i = lineIndex((r) => r.type === RecordType.Key && r.chain === "FR" && r.seq !== 1);
    const lines = edit(gen.lines, i, (r) => {
      r.key = intruder.keyId;
      const { hash: _h, sig: _s, ...rest } = r;
      r.hash = hashOf(rest);
      r.sig = intruder.sign(Buffer.from(canonicalJson(rest)));
    });
    await assertFinding(lines, /a rotation must be signed by the key it replaces/, { line: i + 1 });
  });

  it("prints what it checked and exits 0 on an untouched export; -o json says the same for machines", async () => {
    const text = await verifyCommand(gen.data);
    assert.equal(text.status, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /^Verified trail\.jsonl offline: 31 records in 2 chains, 2 heads, 33 signatures, 3 attestations, 24 placements re-checked\./);
    assert.match(text.stdout, /chain FR +positions 1\.\.18/);
    assert.match(text.stdout, /time covered 2026-11-28T10:00:01\.000Z to /);
    assert.match(text.stdout, /No findings\.\n$/);
    const json = await verifyCommand(gen.data, ["-o", "json"]);
    assert.equal(json.status, 0);
    const doc = JSON.parse(json.stdout) as { result: string; findings: unknown[]; checked: { records: number; signatures: number } };
    assert.equal(doc.result, "clean");
    assert.deepEqual(doc.findings, []);
    assert.equal(doc.checked.signatures, 33);
  });

  it("exits 2 for input that is no ledger: a missing file, an empty one, another kind of file", async () => {
    for (const data of [undefined, Buffer.alloc(0), Buffer.from("apiVersion: v1\nkind: ConfigMap\n")]) {
      const run = await verifyCommand(data);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /cannot read trail\.jsonl|holds no ledger record/);
      assert.equal(run.stdout, "");
    }
    const broken = await verifyCommand(Buffer.from(gen.lines.slice(0, 3).join("\n") + "\nnot json\n"));
    assert.equal(broken.status, 1, "a ledger with a line that is not a record has a finding, it is not bad input");
    assert.match(broken.stdout, /line 4: the line is not JSON/);
  });

  it("finds a chain anchored on a key the auditor does not trust, and none when it is trusted", async () => {
    assert.deepEqual(verifyLedger({ data: gen.data, trust: [gen.keys.first.keyId] }).findings, []);
    const findings = verifyLedger({ data: gen.data, trust: [SigningKey.generate().keyId] }).findings;
    assert.equal(findings.filter((f) => /not among the trusted keys/.test(f.problem)).length, 2, "both chains' anchors");
  });

  it("finds any single-byte change to any line of a valid export (property)", async () => {
    const small = generateLedger({ perChain: 4, attestations: 1 });
    const lines = small.lines;
    fc.assert(fc.property(
      fc.nat({ max: lines.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }),
      (lineNo, at, delta) => {
        const bytes = Buffer.from(lines[lineNo]!);
        const i = at % bytes.length;
        bytes[i] = (bytes[i]! + delta) % 256;
        const data = Buffer.concat([...lines.slice(0, lineNo).map((l) => Buffer.from(l + "\n")), bytes, Buffer.from("\n"), ...lines.slice(lineNo + 1).map((l) => Buffer.from(l + "\n"))]);
        const { findings } = verifyLedger({ data });
        return findings.length > 0;
      },
    ), { numRuns: Number(process.env.FC_NUM_RUNS ?? 300) });
  });
});
