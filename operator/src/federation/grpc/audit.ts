import { status } from "@grpc/grpc-js";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { ExportRequest, ExportResponse, QueryRequest, QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import { headRecord, lineOf, parseLine, RecordType } from "../../ledger/index.ts";
import type { KeyBody, LedgerRecord } from "../../ledger/index.ts";
import { auditIndexPlacements, auditRecordOf, fetchIndexed, parseSubject, readAudit, readAuditIndex, readAuditMessages, streams, subjects, validateCountry } from "../nats/index.ts";
import type { AuditIndexer, LedgerKeys } from "../nats/index.ts";
import { RpcError } from "./errors.ts";

/** How long a query waits for this control plane's indexer to reach the records stored before it, before it scans instead. */
const INDEX_WAIT_MS = 2_000;

// RFC 3339's years: nats-server parses a consumer's start time as one, and refused
// `-029026-10-03T...` (a Date JavaScript holds) with an API error the caller saw as INTERNAL.
const EARLIEST = Date.parse("0001-01-01T00:00:00.000Z");
const LATEST = Date.parse("9999-12-31T23:59:59.999Z");

/** Throws INVALID_ARGUMENT naming the field unless each bound of `range` is a time of years 0001 to 9999. */
export function checkTimeRange(range: { since?: Date | undefined; until?: Date | undefined } | undefined): void {
  for (const [field, time] of [["range.since", range?.since], ["range.until", range?.until]] as const) {
    if (time === undefined) continue;
    const ms = time.getTime();
    if (!(ms >= EARLIEST && ms <= LATEST)) {
      throw new RpcError(status.INVALID_ARGUMENT, `${field}: ${Number.isNaN(ms) ? "not a time" : time.toISOString()} is outside the years 0001 to 9999`);
    }
  }
}

/**
 * A workload's placement records through the audit index (audit-index.ts): reads the
 * workload's index entries from `since` and fetches only those records, so the time it
 * takes follows what it returns, not the age of the trail.
 */
async function* indexedPlacements(params: { jsm: JetStreamManager; js: JetStreamClient; req: QueryRequest; log?: Logger | undefined }): AsyncGenerator<QueryResponse> {
  const { req } = params;
  const since = req.range?.since?.getTime();
  const until = req.range?.until?.getTime();
  const entries = readAuditIndex({ jsm: params.jsm, js: params.js, subject: auditIndexPlacements(req.namespace, req.name), since: req.range?.since });
  const wanted = (async function* () {
    for await (const e of entries) if (!req.country || e.chain === req.country) yield e;
  })();
  let matched = 0;
  for await (const { entry, data, storedAt } of fetchIndexed({ jsm: params.jsm, entries: wanted })) {
    // Times as the scan judges them: the stored time of the audit message.
    if (since !== undefined && storedAt.getTime() < since) continue;
    if (until !== undefined && storedAt.getTime() > until) return;
    let record;
    try {
      record = auditRecordOf(parseLine(data));
    } catch (err) {
      params.log?.error({ err, seq: entry.seq }, "skipping an audit record that does not decode");
      continue;
    }
    // The token is a hash of namespace/name: the record itself decides.
    if (!record || record.workload?.namespace !== req.namespace || record.workload?.name !== req.name) continue;
    if (req.cluster && record.cluster !== req.cluster) continue;
    yield { record, streamSequence: entry.seq };
    if (req.limit && ++matched >= req.limit) return;
  }
}

/**
 * AuditService.Query over the audit stream. A query naming its workload is answered from
 * the audit index when this control plane's indexer is caught up; otherwise, and for
 * queries of every workload, the country narrows the subject (the server filters) and
 * `since` the start (JetStream's start-time delivery); workload and cluster are filtered
 * here; the limit counts matches.
 */
export function auditQueryHandler(params: { jsm: JetStreamManager; js: JetStreamClient; log?: Logger; index?: AuditIndexer }) {
  return async function* query(req: QueryRequest, signal: AbortSignal): AsyncGenerator<QueryResponse> {
    checkTimeRange(req.range);
    if (req.namespace && req.name && params.index && await params.index.caughtUp(INDEX_WAIT_MS)) {
      for await (const r of indexedPlacements({ jsm: params.jsm, js: params.js, req, log: params.log })) {
        if (signal.aborted) return;
        yield r;
      }
      return;
    }
    let matched = 0;
    const records = readAudit({
      jsm: params.jsm,
      js: params.js,
      ...(params.log ? { log: params.log } : {}),
      ...(req.country ? { country: req.country } : {}),
      ...(req.range?.since ? { since: req.range.since } : {}),
      ...(req.range?.until ? { until: req.range.until } : {}),
    });
    for await (const { record, streamSequence } of records) {
      if (signal.aborted) return;
      if (req.namespace && record.workload?.namespace !== req.namespace) continue;
      if (req.name && record.workload?.name !== req.name) continue;
      if (req.cluster && record.cluster !== req.cluster) continue;
      yield { record, streamSequence };
      if (req.limit && ++matched >= req.limit) return;
    }
  };
}

/** The countries whose chains the audit stream holds, from its subjects. */
async function auditCountries(jsm: JetStreamManager): Promise<string[]> {
  const info = await jsm.streams.info(streams.audit, { subjects_filter: subjects.allAudit });
  const out: string[] = [];
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const parsed = parseSubject(subject);
    if (parsed?.kind === "audit") out.push(parsed.country);
  }
  return out.sort();
}

/**
 * AuditService.Export: each chain's records as stored (the stored bytes are the canonical
 * line, passed on untouched), then a head per chain signed now, saying which positions
 * and hashes the export starts and ends with, so that a record dropped from either end is
 * seen offline. Records before `since` are left out except the chain's key and member-key
 * records, which verifying the signatures and attestations needs. With the audit index
 * caught up, those come from the chain's key entries and the rest is read from `since`
 * (JetStream's start-time delivery on the time the server stored each record, started
 * `clockSkewMs` early, default a minute: a record's own time is the control plane's
 * clock, which may run ahead of the server's); `keys` reads the key entries only.
 * Without the index, a chain is read from its start.
 */
export function auditExportHandler(params: { jsm: JetStreamManager; js: JetStreamClient; ledger: Pick<LedgerKeys, "federation" | "key" | "previous">; now: () => Date; log?: Logger; index?: AuditIndexer; clockSkewMs?: number }) {
  return async function* exportLedger(req: ExportRequest, signal: AbortSignal): AsyncGenerator<ExportResponse> {
    checkTimeRange(req.range);
    const countries = req.country ? [validateCountry(req.country)] : await auditCountries(params.jsm);
    const since = req.range?.since?.getTime();
    const until = req.range?.until?.getTime();
    const decoder = new TextDecoder();
    for (const country of countries) {
      let first: LedgerRecord | undefined;
      let last: LedgerRecord | undefined;
      let chainKey: string | undefined;
      const indexed = params.index && (req.keysOnly || since !== undefined) && await params.index.caughtUp(INDEX_WAIT_MS);
      const source = indexed
        ? chainFromIndex({ jsm: params.jsm, js: params.js, country, since: req.keysOnly ? undefined : since, skewMs: params.clockSkewMs ?? 60_000 })
        : readAuditMessages({ jsm: params.jsm, js: params.js, country });
      for await (const m of source) {
        if (signal.aborted) return;
        let record: LedgerRecord;
        try {
          record = parseLine(m.data);
        } catch (err) {
          // Not a ledger record (a protobuf record from before the ledger): not part of any chain.
          params.log?.warn({ err, subject: m.subject, seq: m.streamSequence }, "leaving a non-ledger audit message out of the export");
          continue;
        }
        const t = Date.parse(record.time);
        if (until !== undefined && t > until) break;
        if (record.type === RecordType.Key) chainKey = (record.body as KeyBody).keyId;
        const inRange = since === undefined || t >= since;
        // Member keys come along like the chain's own keys: the attestations in range are checked with them.
        const needed = record.type === RecordType.Key || record.type === RecordType.MemberKey;
        if (req.keysOnly ? record.type !== RecordType.Key : !inRange && !needed) continue;
        if (inRange && !req.keysOnly) {
          first ??= record;
          last = record;
        }
        yield { line: decoder.decode(m.data) };
      }
      if (req.keysOnly || chainKey === undefined) continue;
      // The head is signed by the chain's current key: ours, or the one we are rotating from.
      const signer = params.ledger.previous?.keyId === chainKey ? params.ledger.previous : params.ledger.key;
      const head = headRecord({
        federation: params.ledger.federation, chain: country, first, last,
        since: req.range?.since, until: req.range?.until, time: params.now(), signer,
      });
      yield { line: lineOf(head) };
    }
  };
}

/**
 * A chain's messages as an export from `since` needs them, through the audit index: its
 * key and member-key records older than `since` (every one when `since` is undefined:
 * `keys`), then, with `since`, the stored messages from shortly before it.
 */
async function* chainFromIndex(params: { jsm: JetStreamManager; js: JetStreamClient; country: string; since: number | undefined; skewMs: number }): AsyncGenerator<{ data: Uint8Array; subject: string; streamSequence: number }> {
  const subject = subjects.audit(params.country);
  const sent = new Set<number>();
  const keys = readAuditIndex({ jsm: params.jsm, js: params.js, subject: subjects.auditIndexKeys(params.country) });
  for await (const { entry, data } of fetchIndexed({ jsm: params.jsm, entries: keys })) {
    if (params.since !== undefined && Date.parse(entry.time) >= params.since) break;
    sent.add(entry.seq);
    yield { data, subject, streamSequence: entry.seq };
  }
  if (params.since === undefined) return;
  for await (const m of readAuditMessages({ jsm: params.jsm, js: params.js, country: params.country, since: new Date(params.since - params.skewMs) })) {
    if (!sent.has(m.streamSequence)) yield m;
  }
}
