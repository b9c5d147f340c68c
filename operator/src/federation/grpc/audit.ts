import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { QueryRequest, QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import { readAudit } from "../nats/index.ts";

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
