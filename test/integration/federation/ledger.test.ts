import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { chainTailOf, LedgerChainError, LedgerWriter, readAuditMessages, readChainTail } from "../../../operator/src/federation/index.ts";
import type { FederationClient } from "../../../operator/src/federation/index.ts";
import { headRecord, lineOf, parseLine, SigningKey, verifyLedger } from "../../../operator/src/ledger/index.ts";
import type { LedgerRecord } from "../../../operator/src/ledger/index.ts";
import { sampleAuditRecord } from "../../support/samples.ts";
import { readFederationEnv } from "../env.ts";
import { connectAs, uid } from "./helpers.ts";
import { federationLedger } from "./ledger.ts";

// A chain of its own (no member is in "XL"), so the control plane's chains are left alone;
// it persists across runs, which is itself the restart case: each run continues it.
const CHAIN = "XL";

describe("audit ledger on the real audit stream (nats-server, JetStream)", function () {
  let cps: FederationClient[] = [];
  let jsm: JetStreamManager;
  let writers: LedgerWriter[] = [];

  before(async () => {
    const env = readFederationEnv();
    // Two connections, as two control planes would have, sharing the federation's key.
    cps = [await connectAs(env, "control-plane"), await connectAs(env, "control-plane")];
    jsm = await cps[0]!.manager();
    writers = await Promise.all(cps.map((cp) => federationLedger(env, cp)));
  });

  after(async () => {
    await Promise.allSettled(cps.map((c) => c.drain()));
  });

  async function readAuditTail(chain: string) {
    return (await readChainTail(jsm, chain))?.record;
  }

  async function chainExport(): Promise<{ records: LedgerRecord[]; data: Buffer }> {
    const records: LedgerRecord[] = [];
    for await (const m of readAuditMessages({ jsm, js: cps[0]!.js, country: CHAIN })) records.push(parseLine(m.data));
    const head = headRecord({ federation: writers[0]!.federation, chain: CHAIN, first: records[0], last: records.at(-1), since: undefined, until: undefined, time: new Date(), signer: writers[0]!.key });
    return { records, data: Buffer.from([...records, head].map(lineOf).join("\n") + "\n") };
  }

  it("never forks a chain: two writers appending at once both land every record, each linked to the one before", async () => {
    const before = (await chainExport()).records.length;
    const record = (i: number, w: number) => sampleAuditRecord({
      recordId: `race-${uid()}-${w}-${i}`, country: CHAIN, cluster: "xl", time: new Date(),
      facts: { ...sampleAuditRecord().facts!, country: CHAIN }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [CHAIN] },
    });
    const appended = await Promise.all(writers.flatMap((w, wi) => Array.from({ length: 15 }, (_, i) => w.appendAudit(record(i, wi)))));
    const { records, data } = await chainExport();
    assert.ok(records.length >= before + 30, `${records.length} records after ${before} + 30 appends`);
    assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1), "positions 1..n, once each");
    const ids = new Set(records.map((r) => r.id));
    for (const a of appended) assert.ok(ids.has(a.record.id), `${a.record.id} is in the chain`);
    const report = verifyLedger({ data });
    assert.deepEqual(report.findings, []);
    assert.equal(report.checked.records, records.length);
  });

  function chainRecord(prefix: string) {
    return sampleAuditRecord({
      recordId: `${prefix}-${uid()}`, country: CHAIN, cluster: "xl", time: new Date(),
      facts: { ...sampleAuditRecord().facts!, country: CHAIN }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [CHAIN] },
    });
  }

  /** A writer whose publishes are counted: single appends and atomic batches (with their sizes). */
  async function countingWriter(cp: FederationClient) {
    const base = await federationLedger(readFederationEnv(), cp);
    const calls = { single: 0, batches: [] as number[] };
    const publisher = {
      audit: (...a: Parameters<FederationClient["publish"]["audit"]>) => (calls.single++, cp.publish.audit(...a)),
      auditBatch: (...a: Parameters<FederationClient["publish"]["auditBatch"]>) => (calls.batches.push(a[0].length), cp.publish.auditBatch(...a)),
    };
    const writer = new LedgerWriter({ publisher, jsm: () => cp.manager(), keys: { federation: base.federation, key: base.key } });
    return { writer, calls };
  }

  it("appends what arrives while a publish is in flight as one atomic batch, at consecutive stream sequences", async () => {
    const { writer, calls } = await countingWriter(cps[0]!);
    const appended = await Promise.all(Array.from({ length: 40 }, () => writer.appendAudit(chainRecord("burst"))));
    const seqs = appended.map((a) => a.streamSequence);
    assert.equal(new Set(seqs).size, 40, "every record at its own stream sequence");
    // The first append goes alone (nothing was pending), the other 39 arrived meanwhile and go together.
    assert.ok(calls.batches.length >= 1 && calls.single + calls.batches.length <= 3, `40 appends took ${calls.single} single publishes and batches of ${calls.batches.join(", ")}`);
    for (let i = 1; i < appended.length; i++) assert.equal(appended[i]!.record.seq, appended[i - 1]!.record.seq! + 1, "chain positions in call order");
    const { records, data } = await chainExport();
    const stored = new Map(records.map((r) => [r.id, r]));
    for (const a of appended) assert.equal(stored.get(a.record.id)?.hash, a.record.hash, `${a.record.id} stored as returned`);
    assert.deepEqual(verifyLedger({ data }).findings, []);
  });

  it("stores a retried record once when it comes back inside a batch, and the batch's new records still land", async () => {
    const { writer, calls } = await countingWriter(cps[0]!);
    const retried = chainRecord("retried");
    const first = await writer.appendAudit(retried);
    // A burst holding the retried id: the stream refuses the batch whole, the writer appends them one by one.
    const fresh = Array.from({ length: 5 }, () => chainRecord("after-retry"));
    const [, again, ...rest] = await Promise.all([writer.appendAudit(chainRecord("lead")), writer.appendAudit(retried), ...fresh.map((r) => writer.appendAudit(r))]);
    assert.equal(again!.streamSequence, first.streamSequence, "the retry points at the record stored the first time");
    assert.ok(calls.batches.length >= 1, "the burst was tried as a batch (the path under test)");
    const { records, data } = await chainExport();
    assert.equal(records.filter((r) => r.id === retried.recordId).length, 1, "stored once");
    for (const r of rest) assert.equal(records.filter((x) => x.id === r.record.id).length, 1, `${r.record.id} stored once`);
    assert.deepEqual(verifyLedger({ data }).findings, []);
  });

  it("moves a chain nothing was appended to onto the new key at rotation, and leaves a chain already on it alone", async () => {
    // A chain of this run only (they persist across runs): the first "X?" subject still empty.
    const info = await jsm.streams.info("sov-audit", { subjects_filter: "sov.audit.v1.*" });
    const used = new Set(Object.keys(info.state.subjects ?? {}).map((s) => s.split(".").at(-1)));
    const chain = [..."ABCDEFGHIJKMNOPQRSTUVWYZ"].map((c) => `X${c}`).find((c) => !used.has(c));
    assert.ok(chain, "an unused X? chain is left for this test");
    const fed = writers[0]!;
    const older = SigningKey.generate();
    const atOlder = new LedgerWriter({ publisher: cps[0]!.publish, jsm: () => cps[0]!.manager(), keys: { federation: fed.federation, key: older } });
    await atOlder.appendAudit(sampleAuditRecord({ recordId: `rotate-${uid()}`, country: chain, time: new Date(), facts: { ...sampleAuditRecord().facts!, country: chain }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [chain] } }));
    // The chain's current key: a key record's introduced key, not its signer.
    const tailKey = async (c: string) => { const r = await readAuditTail(c); return r && chainTailOf(r).key; };
    assert.equal(await tailKey(chain), older.keyId, "the chain is on the older key (positive control)");
    const xlBefore = (await chainExport()).records.length;

    // The federation's own key, rotated from the older one: every chain on the older key moves, appending nothing else.
    const rotated = new LedgerWriter({ publisher: cps[0]!.publish, jsm: () => cps[0]!.manager(), keys: { federation: fed.federation, key: fed.key, previous: older } });
    const moved = await rotated.rotateChains();
    assert.deepEqual(moved, [chain]);
    assert.equal(await tailKey(chain), fed.key.keyId, "the chain's newest record is the key record of the new key");
    assert.equal((await chainExport()).records.length, xlBefore, "a chain already on the new key gets nothing");
    assert.deepEqual(await rotated.rotateChains(), [], "run again, nothing is left to move");
    // The next append to the rotated chain is signed by the new key and brings no second key record.
    const before = (await readChainTail(jsm, chain))!;
    const { record } = await rotated.appendAudit(sampleAuditRecord({ recordId: `after-rotate-${uid()}`, country: chain, time: new Date(), facts: { ...sampleAuditRecord().facts!, country: chain }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [chain] } }));
    assert.equal(record.seq, before.record.seq! + 1, "linked right after the key record");
    assert.equal(record.key, fed.key.keyId);
  });

  it("continues the chain after a restart: a new writer links to what the stream holds", async () => {
    const env = readFederationEnv();
    const fresh = await federationLedger(env, cps[1]!);
    const { records: before } = await chainExport();
    const { record } = await fresh.appendAudit(sampleAuditRecord({
      recordId: `restart-${uid()}`, country: CHAIN, cluster: "xl", time: new Date(),
      facts: { ...sampleAuditRecord().facts!, country: CHAIN }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [CHAIN] },
    }));
    assert.equal(record.seq, before.at(-1)!.seq! + 1);
    assert.equal(record.prev, before.at(-1)!.hash);
    assert.deepEqual(verifyLedger({ data: (await chainExport()).data }).findings, []);
  });

  it("refuses to write a chain signed by a key it does not hold, and appends nothing", async () => {
    const stranger = new LedgerWriter({ publisher: cps[0]!.publish, jsm: () => cps[0]!.manager(), keys: { federation: writers[0]!.federation, key: SigningKey.generate() } });
    const { records: before } = await chainExport();
    await assert.rejects(stranger.appendAudit(sampleAuditRecord({ recordId: `stranger-${uid()}`, country: CHAIN, time: new Date() })), LedgerChainError);
    assert.equal((await chainExport()).records.length, before.length);
  });
});
