import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { ExportRequest, ExportResponse, QueryRequest, QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import { headRecord, lineOf, parseLine, RecordType } from "../../ledger/index.ts";
import type { KeyBody, LedgerRecord } from "../../ledger/index.ts";
import { parseSubject, readAudit, readAuditMessages, streams, subjects, validateCountry } from "../nats/index.ts";
import type { LedgerKeys } from "../nats/index.ts";

/**
 * AuditService.Query over the audit stream. The country narrows the subject (the
 * server filters); workload and cluster are filtered here; the limit counts matches.
 */
export function auditQueryHandler(params: { jsm: JetStreamManager; js: JetStreamClient; log?: Logger }) {
  return async function* query(req: QueryRequest, signal: AbortSignal): AsyncGenerator<QueryResponse> {
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
 * records, which verifying the signatures and attestations needs. A chain is read from its start: key records can be
 * anywhere in it (a faster way is an index of key records, not there yet).
 */
export function auditExportHandler(params: { jsm: JetStreamManager; js: JetStreamClient; ledger: Pick<LedgerKeys, "federation" | "key" | "previous">; now: () => Date; log?: Logger }) {
  return async function* exportLedger(req: ExportRequest, signal: AbortSignal): AsyncGenerator<ExportResponse> {
    const countries = req.country ? [validateCountry(req.country)] : await auditCountries(params.jsm);
    const since = req.range?.since?.getTime();
    const until = req.range?.until?.getTime();
    const decoder = new TextDecoder();
    for (const country of countries) {
      let first: LedgerRecord | undefined;
      let last: LedgerRecord | undefined;
      let chainKey: string | undefined;
      for await (const m of readAuditMessages({ jsm: params.jsm, js: params.js, country })) {
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
