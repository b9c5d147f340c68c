// `kubectl sovereign explain WORKLOAD`: the running control plane's decision for one
// workload, with a reason for every cluster it did not use.
import type { Decision } from "../../gen/sovereign/v1/federation.ts";
import { type ControlPlaneClient, controlPlaneError } from "./control-plane.ts";
import type { ExplainOptions } from "./live-options.ts";
import { NOT_CHOSEN } from "./output.ts";
import { renderDocument, renderTable } from "./render.ts";

/** The JSON shape `simulate -o json` prints for one decision (API.md, plus rejection messages when the server has them). */
export interface DecisionView {
  workload: string;
  scheduled: boolean;
  reason: string;
  message: string;
  placements: { cluster: string; country: string; replicas: number }[];
  rejected: { cluster: string; reasons: string[]; messages?: string[] }[];
  unselected: { cluster: string; reason: string }[];
}

export function decisionView(d: Decision): DecisionView {
  return {
    workload: d.workload,
    scheduled: d.scheduled,
    reason: d.reason,
    message: d.message,
    placements: d.placements.map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas })),
    rejected: d.rejected.map((r) => ({ cluster: r.cluster, reasons: [...r.reasons], ...(r.messages.length ? { messages: [...r.messages] } : {}) })),
    unselected: d.unselected.map((u) => ({ cluster: u.cluster, reason: u.reason })),
  };
}

/** One row per cluster (placed, eligible but not chosen, rejected), then the summary line. */
export function explainTable(v: DecisionView): string {
  const rows = [
    ...v.placements.map((p) => [p.cluster, "placed", p.country, String(p.replicas), ""]),
    ...v.unselected.map((u) => [u.cluster, NOT_CHOSEN, "", "0", u.reason]),
    ...v.rejected.map((r) => [r.cluster, "rejected", "", "0", r.messages?.length ? r.messages.join("; ") : r.reasons.join(",")]),
  ];
  const table = rows.length ? renderTable(["CLUSTER", "RESULT", "COUNTRY", "REPLICAS", "WHY"], rows) : "No member clusters.\n";
  return `${table}\n${v.workload}: ${v.reason}: ${v.message}\n`;
}

/** `namespace`: -n, else the context's, resolved by the caller. */
export async function runExplain({ options, namespace, client, write }: { options: ExplainOptions; namespace: string; client: ControlPlaneClient; write: (text: string) => void }): Promise<void> {
  let decision: Decision | undefined;
  try {
    ({ decision } = await client.explain({ namespace, name: options.name, now: options.now }));
  } catch (err) {
    // Errors of the host's query API are mapped by its client already; these are gRPC's.
    throw options.grpc ? controlPlaneError(err, options.grpc, "Explain") : err;
  }
  if (!decision) throw new Error(`the control plane answered Explain for ${namespace}/${options.name} without a decision`);
  const view = decisionView(decision);
  write(options.output === "table" ? explainTable(view) : renderDocument(view, options.output));
}
