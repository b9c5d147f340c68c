// `kubectl sovereign audit WORKLOAD`: the workload's trail on the audit stream, as an
// auditor reads it: when, what, where, from where, why, under which generation, by whom.
import type { QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import { AuditAction } from "../../gen/sovereign/v1/audit.ts";
import { type ControlPlaneClient, controlPlaneError } from "./control-plane.ts";
import type { AuditOptions } from "./live-options.ts";
import { renderDocument, renderTable } from "./render.ts";

export interface AuditRecordView {
  streamSequence: number;
  recordId: string;
  time: string | null;
  action: string;
  cluster: string;
  country: string;
  replicas: number;
  fromCluster: string;
  reasons: string[];
  generation: number;
  decidedBy: string;
  residencyPolicy: string;
}

const ACTIONS: Record<number, string> = {
  [AuditAction.AUDIT_ACTION_PLACED]: "Placed",
  [AuditAction.AUDIT_ACTION_MOVED]: "Moved",
  [AuditAction.AUDIT_ACTION_EVICTED]: "Evicted",
  [AuditAction.AUDIT_ACTION_REJECTED]: "Rejected",
};

export function auditRecordView(r: QueryResponse): AuditRecordView {
  const rec = r.record;
  return {
    streamSequence: r.streamSequence,
    recordId: rec?.recordId ?? "",
    time: rec?.time ? rec.time.toISOString() : null,
    // An action this plugin does not know yet (a newer control plane) shows as its number.
    action: rec ? (ACTIONS[rec.action] ?? `Unknown(${rec.action})`) : "Unknown",
    cluster: rec?.cluster ?? "",
    country: rec?.country ?? "",
    replicas: rec?.replicas ?? 0,
    fromCluster: rec?.fromCluster ?? "",
    reasons: [...(rec?.reasons ?? [])],
    generation: rec?.generation ?? 0,
    decidedBy: rec?.decidedBy ?? "",
    residencyPolicy: rec?.residencyPolicy ?? "",
  };
}

export function auditTable(workload: string, records: readonly AuditRecordView[]): string {
  if (records.length === 0) return `No audit records for ${workload}.\n`;
  return renderTable(
    ["TIME", "ACTION", "CLUSTER", "COUNTRY", "REPLICAS", "FROM", "REASONS", "GENERATION", "DECIDED BY"],
    records.map((r) => [r.time ?? "", r.action, r.cluster, r.country, String(r.replicas), r.fromCluster, r.reasons.join(","), String(r.generation), r.decidedBy]),
  );
}

/** `namespace`: -n, else the context's, resolved by the caller. */
export async function runAudit({ options, namespace, client, write }: { options: AuditOptions; namespace: string; client: ControlPlaneClient; write: (text: string) => void }): Promise<void> {
  const records: AuditRecordView[] = [];
  try {
    for await (const r of client.queryAudit({
      namespace, name: options.name, cluster: "", country: "",
      range: options.since ? { since: options.since, until: undefined } : undefined,
      limit: options.limit,
    })) records.push(auditRecordView(r));
  } catch (err) {
    throw options.grpc ? controlPlaneError(err, options.grpc, "Audit.Query") : err;
  }
  const workload = `${namespace}/${options.name}`;
  write(options.output === "table" ? auditTable(workload, records) : renderDocument({ workload, records }, options.output));
}
