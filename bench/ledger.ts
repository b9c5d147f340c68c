// `npm run bench -- ledger`: does reading the audit ledger slow down as it grows?
//
// For each size (1,000 records, then 100,000; SOV_BENCH_LEDGER_RECORDS overrides the
// large one), on a fresh nats-server of its own (hack/build-tools' binary, JetStream on
// file storage, loopback, no TLS, and JetStream's default sync interval rather than the
// federation's fsync of every write: the figures are about reading, and 100,000 fsync'd
// appends would only make the run longer), records are appended through the control plane's
// own LedgerWriter (signed, hash-chained, one chain per country), the control plane's
// AuditIndexer indexes them, and the control plane's own handlers are timed:
//   - a query by workload (`kubectl sovereign audit WORKLOAD`): 50 records at every size,
//     through the index, and through the scan the index replaced, for comparison;
//   - a time-bounded query (the last 500 records, JetStream's start-time delivery);
//   - an export of the last 500 records' time range (`audit export --since`);
//   - an export of the whole ledger and its offline verification (both read everything
//     by nature: their figure is per record).
// Then the ratio of each figure at the large size to the same at 1,000 records: about 1
// means it does not slow with age.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { auditExportHandler, auditQueryHandler } from "../operator/src/federation/grpc/index.ts";
import { AuditIndexer, ensureSharedStreams, FederationPublisher, LedgerWriter } from "../operator/src/federation/index.ts";
import { SigningKey, verifyLedger } from "../operator/src/ledger/index.ts";
import { waitFor } from "../operator/src/runtime/wait.ts";
import { toolPaths } from "../hack/lib/federation/tools.ts";
import { sampleAuditRecord } from "../test/support/samples.ts";

const SMALL = 1_000;
const LARGE = Number(process.env.SOV_BENCH_LEDGER_RECORDS ?? 100_000);
const PER_WORKLOAD = 50;
const RANGE = 500;
const COUNTRIES = ["FR", "DE", "NL", "IT", "ES", "BE", "AT", "PL", "SE", "FI"];
const REPEAT = 5;

interface Figures {
  records: number;
  appendSeconds: number;
  indexSeconds: number;
  byWorkload: number;
  byWorkloadScan: number;
  byTime: number;
  exportRange: number;
  exportAll: number;
  verify: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function startNats(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const conf = path.join(dir, "nats.conf");
  writeFileSync(conf, `listen: 127.0.0.1:${port}\njetstream { store_dir: "${path.join(dir, "js")}" }\n`);
  const proc = spawn(toolPaths(path.resolve(import.meta.dirname, "..")).natsServer, ["-c", conf], { stdio: "ignore" });
  const url = `nats://127.0.0.1:${port}`;
  await waitFor(async () => {
    const nc = await connect({ servers: url, reconnect: false }).catch(() => undefined);
    await nc?.close();
    return nc !== undefined;
  }, { what: "nats-server up", timeoutMs: 20_000, intervalMs: 100 });
  return { url, proc };
}

/**
 * Median wall time of `repeat` runs of `f` after one run not timed (code warmed up the
 * same at both sizes), in ms; `f` returns how many items it read, checked against `expect`.
 */
async function timed(what: string, expect: number | undefined, f: () => Promise<number>, repeat = REPEAT, warmUp = true): Promise<number> {
  const times: number[] = [];
  for (let i = warmUp ? -1 : 0; i < repeat; i++) {
    const start = performance.now();
    const n = await f();
    if (i >= 0) times.push(performance.now() - start);
    if (expect !== undefined && n !== expect) throw new Error(`${what}: read ${n}, expected ${expect}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function measure(records: number): Promise<Figures> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-ledger-"));
  const { url, proc } = await startNats(dir);
  let nc: NatsConnection | undefined;
  const abort = new AbortController();
  let indexing: Promise<void> | undefined;
  try {
    nc = await connect({ servers: url });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await ensureSharedStreams(jsm);
    const keys = { federation: "federation-bench", key: SigningKey.generate() };
    const writer = new LedgerWriter({ publisher: new FederationPublisher({ js, nc }), jsm: async () => jsm, keys });
    const index = new AuditIndexer({ js, jsm: async () => jsm });
    indexing = index.start(abort.signal);

    // Workload j has PER_WORKLOAD records, all on its country's chain; the chains are
    // appended concurrently (one append in flight per chain, as LedgerWriter keeps them).
    const workloads = records / PER_WORKLOAD;
    let appended = 0;
    const started = performance.now();
    const append = async (from: number, to: number) => {
      const byChain = new Map<string, number[]>();
      for (let i = from; i < to; i++) {
        const country = COUNTRIES[(i % workloads) % COUNTRIES.length]!;
        const list = byChain.get(country) ?? [];
        list.push(i);
        byChain.set(country, list);
      }
      await Promise.all([...byChain].map(async ([country, indexes]) => {
        for (const i of indexes) {
          const j = i % workloads;
          await writer.appendAudit(sampleAuditRecord({
            recordId: `bench-${i}`, workload: { namespace: "bench", name: `w-${j}`, uid: `uid-${j}` }, country, cluster: `${country.toLowerCase()}-1`,
            time: new Date(), facts: { ...sampleAuditRecord().facts!, country }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: [country] },
          }));
          if (++appended % 10_000 === 0) process.stdout.write(`  ${appended}/${records} appended (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
        }
      }));
    };
    // The last RANGE records are appended after a mark: the time range queried below.
    await append(0, records - RANGE);
    const rangeStart = new Date();
    await append(records - RANGE, records);
    const appendSeconds = (performance.now() - started) / 1000;
    const indexStart = performance.now();
    await waitFor(() => index.caughtUp(1_000), { what: "the audit index caught up", timeoutMs: 600_000, intervalMs: 100 });
    const indexSeconds = (performance.now() - indexStart) / 1000;

    const query = auditQueryHandler({ jsm, js, index });
    const scan = auditQueryHandler({ jsm, js });
    // One clock here (the bench's and its nats-server's): no skew to allow for between a
    // record's time and the time it was stored.
    const exportLedger = auditExportHandler({ jsm, js, ledger: keys, now: () => new Date(), index, clockSkewMs: 0 });
    const count = async (it: AsyncIterable<unknown>) => {
      let n = 0;
      for await (const item of it) if (item) n++;
      return n;
    };
    const signal = new AbortController().signal;
    const target = { namespace: "bench", name: `w-${Math.floor(workloads / 2)}`, cluster: "", country: "", range: undefined, limit: 0 };
    const byWorkload = await timed("query by workload", PER_WORKLOAD, () => count(query(target, signal)));
    const byWorkloadScan = await timed("query by workload (scan)", PER_WORKLOAD, () => count(scan(target, signal)));
    const byTime = await timed("query by time", RANGE, () => count(query({ ...target, namespace: "", name: "", range: { since: rangeStart, until: undefined } }, signal)));
    // The range's records, each chain's key record, and a head per chain.
    const exportRange = await timed("export of a time range", RANGE + 2 * COUNTRIES.length, () => count(exportLedger({ country: "", range: { since: rangeStart, until: undefined }, keysOnly: false }, signal)));
    const lines: string[] = [];
    const exportAll = await timed("export", records + 2 * COUNTRIES.length, async () => {
      lines.length = 0;
      for await (const r of exportLedger({ country: "", range: undefined, keysOnly: false }, signal)) lines.push(r.line);
      return lines.length;
    }, 3);
    const data = Buffer.from(`${lines.join("\n")}\n`);
    let findings = -1;
    const verify = await timed("verify", undefined, async () => {
      const report = verifyLedger({ data });
      findings = report.findings.length;
      return report.checked.records;
    }, 1, false);
    if (findings !== 0) throw new Error(`verify found ${findings} findings in the bench's own export`);
    process.stdout.write(`  ${records} records: export ${lines.length} lines (${(data.length / 2 ** 20).toFixed(1)} MiB)\n`);
    return { records, appendSeconds, indexSeconds, byWorkload, byWorkloadScan, byTime, exportRange, exportAll, verify };
  } finally {
    abort.abort();
    await indexing;
    await nc?.close().catch(() => undefined);
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number) => (x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`);

export async function run(): Promise<void> {
  process.stdout.write(`ledger bench: ${SMALL} and ${LARGE} records, ${PER_WORKLOAD} per workload, ${COUNTRIES.length} chains, median of ${REPEAT} after a warm-up (whole-ledger export: 3; verify: 1, no warm-up)\n`);
  const small = await measure(SMALL);
  const large = await measure(LARGE);
  const rows: [string, (f: Figures) => number, boolean][] = [
    ["query by workload (index), 50 records", (f) => f.byWorkload, false],
    ["query by workload (scan, before the index)", (f) => f.byWorkloadScan, false],
    [`query by time range (last ${RANGE})`, (f) => f.byTime, false],
    [`export of a time range (last ${RANGE})`, (f) => f.exportRange, false],
    ["export, whole ledger", (f) => f.exportAll, true],
    ["verify, whole ledger", (f) => f.verify, true],
  ];
  process.stdout.write(`\n| figure | ${SMALL} records | ${LARGE} records | ratio |\n| --- | --- | --- | --- |\n`);
  for (const [name, get, perRecord] of rows) {
    const a = get(small);
    const b = get(large);
    const extra = perRecord ? ` (${((b / large.records) * 1000).toFixed(1)} µs/record)` : "";
    process.stdout.write(`| ${name} | ${ms(a)} | ${ms(b)}${extra} | ${(b / a).toFixed(2)} |\n`);
  }
  process.stdout.write(`| append (LedgerWriter, ${COUNTRIES.length} chains at once) | ${small.appendSeconds.toFixed(1)} s | ${large.appendSeconds.toFixed(1)} s (${(large.records / large.appendSeconds).toFixed(0)}/s) | |\n`);
  process.stdout.write(`| index caught up after the last append | ${small.indexSeconds.toFixed(2)} s | ${large.indexSeconds.toFixed(2)} s | |\n`);
}
