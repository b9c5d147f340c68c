import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { auditIndexPlacements, AuditIndexer, lastIndexedSequence, readAuditIndex, streams } from "../../../operator/src/federation/index.ts";
import { auditQueryHandler } from "../../../operator/src/federation/grpc/index.ts";
import type { FederationClient, LedgerWriter } from "../../../operator/src/federation/index.ts";
import type { QueryResponse } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import { sampleAuditRecord } from "../../support/samples.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv } from "../env.ts";
import { connectAs, uid } from "./helpers.ts";
import { federationLedger } from "./ledger.ts";

// A chain of its own (no member is in "XI"), so the control plane's chains are left alone.
const CHAIN = "XI";

/**
 * The audit index on the real audit stream: indexers (the running control plane's and the
 * test's own, at once) follow what a LedgerWriter appends; a query by workload through the
 * index answers exactly what the scan answers (the positive control), each record once; a
 * new indexer resumes after the index's last entry instead of starting over.
 */
describe("audit index on the real audit stream (nats-server, JetStream)", function () {
  let cp: FederationClient;
  let jsm: JetStreamManager;
  let writer: LedgerWriter;
  const aborts: AbortController[] = [];
  const running: Promise<void>[] = [];

  function startIndexer(client: FederationClient): AuditIndexer {
    const index = new AuditIndexer({ js: client.js, jsm: () => client.manager() });
    const abort = new AbortController();
    aborts.push(abort);
    running.push(index.start(abort.signal));
    return index;
  }

  before(async () => {
    const env = readFederationEnv();
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    writer = await federationLedger(env, cp);
  });

  after(async () => {
    for (const a of aborts) a.abort();
    await Promise.allSettled(running);
    await cp?.drain();
  });

  const append = (ns: string, name: string, i: number) => writer.appendAudit(sampleAuditRecord({
    recordId: `index-${uid()}-${i}`, workload: { namespace: ns, name, uid: `${name}-uid` }, country: CHAIN, cluster: "xi", time: new Date(),
    facts: { ...sampleAuditRecord().facts!, country: CHAIN }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [CHAIN] },
  }));

  const ids = async (it: AsyncIterable<QueryResponse>) => {
    const out: string[] = [];
    for await (const r of it) out.push(r.record!.recordId);
    return out;
  };

  it("answers a query by workload from the index with exactly the scan's records, each once, while two indexers run", async () => {
    const index = startIndexer(cp);
    const ns = `idx-${uid().slice(0, 8)}`;
    // Three workloads interleaved on one chain; one name holds a dot, where names and subject tokens disagree.
    const names = ["a", "b.c", "d"];
    for (let i = 0; i < 24; i++) await append(ns, names[i % 3]!, i);
    assert.ok(await index.caughtUp(30_000), "the indexer passed the stream's last sequence");
    const indexed = auditQueryHandler({ jsm, js: cp.js, index });
    const scanned = auditQueryHandler({ jsm, js: cp.js });
    const signal = new AbortController().signal;
    for (const name of names) {
      const req = { namespace: ns, name, cluster: "", country: "", range: undefined, limit: 0 };
      const viaIndex = await ids(indexed(req, signal));
      assert.equal(viaIndex.length, 8, name);
      assert.deepEqual(viaIndex, await ids(scanned(req, signal)), `${name}: the index answers what the scan answers`);
      // Each record has one entry, though the control plane's indexer and this one both wrote it.
      let entries = 0;
      for await (const e of readAuditIndex({ jsm, js: cp.js, subject: auditIndexPlacements(ns, name) })) if (e.chain === CHAIN) entries++;
      assert.equal(entries, 8, `${name}: one index entry per record`);
    }
    // The limit and the country filter through the index.
    assert.equal((await ids(indexed({ namespace: ns, name: "a", cluster: "", country: CHAIN, range: undefined, limit: 3 }, signal))).length, 3);
    assert.equal((await ids(indexed({ namespace: ns, name: "a", cluster: "", country: "FR", range: undefined, limit: 0 }, signal))).length, 0);
  });

  it("an indexer started later catches up with what is stored, and indexes what is appended after", async () => {
    const last = await lastIndexedSequence(jsm);
    assert.ok(last > 0);
    const info = await jsm.streams.info(streams.audit);
    assert.ok(last <= info.state.last_seq);
    const other = await connectAs(readFederationEnv(), "control-plane");
    try {
      const index = startIndexer(other);
      // Not following the stream until its consumer is set up (caughtUp answers false meanwhile: queries scan).
      await waitFor(() => index.caughtUp(1_000), { what: "the later indexer caught up", timeoutMs: 30_000, intervalMs: 100 });
      assert.ok(index.indexedThrough >= info.state.last_seq, "caught up with what was stored before it started");
      const ns = `idx-${uid().slice(0, 8)}`;
      const { streamSequence } = await append(ns, "later", 0);
      assert.ok(await index.caughtUp(30_000));
      assert.ok(index.indexedThrough >= streamSequence);
      const viaIndex = await ids(auditQueryHandler({ jsm, js: cp.js, index })({ namespace: ns, name: "later", cluster: "", country: "", range: undefined, limit: 0 }, new AbortController().signal));
      assert.equal(viaIndex.length, 1);
    } finally {
      aborts.at(-1)?.abort();
      await running.at(-1);
      await other.drain();
    }
  });
});
