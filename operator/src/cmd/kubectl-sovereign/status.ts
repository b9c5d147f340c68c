// `kubectl sovereign status WORKLOAD`: what the host holds about one workload's placement.
import type { SovereignWorkload } from "../../api/index.ts";
import type { HostApi } from "../../kube/index.ts";
import { CommandError } from "./errors.ts";
import type { StatusOptions } from "./live-options.ts";
import { renderDocument, renderTable } from "./render.ts";

export interface WorkloadStatusView {
  workload: string;
  generation: number | null;
  observedGeneration: number | null;
  replicas: number;
  readyReplicas: number;
  countries: string[];
  placements: { cluster: string; country: string; replicas: number; readyReplicas: number }[];
  conditions: { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[];
  rejected: { cluster: string; reasons: string[] }[];
}

/** The workload's status as one plain object: what -o json|yaml prints and the table shows. */
export function workloadStatusView(w: SovereignWorkload): WorkloadStatusView {
  const s = w.status ?? {};
  return {
    workload: `${w.metadata.namespace ?? "default"}/${w.metadata.name}`,
    generation: w.metadata.generation ?? null,
    observedGeneration: s.observedGeneration ?? null,
    replicas: w.spec.replicas,
    readyReplicas: s.readyReplicas ?? 0,
    countries: [...(s.countries ?? [])],
    placements: (s.placements ?? []).map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas, readyReplicas: p.readyReplicas ?? 0 })),
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
    rejected: (s.rejectedClusters ?? []).map((r) => ({ cluster: r.cluster, reasons: [...r.reasons] })),
  };
}

/** kubectl-describe-like: a few facts, then one table per section; empty sections say so. */
export function statusTable(v: WorkloadStatusView): string {
  const observed = v.observedGeneration === null ? "not yet observed by the control plane" : `observed ${v.observedGeneration}`;
  const head = [
    `Workload:    ${v.workload}`,
    `Generation:  ${v.generation ?? "-"} (${observed})`,
    `Replicas:    ${v.replicas} desired, ${v.readyReplicas} ready`,
    `Countries:   ${v.countries.length ? v.countries.join(", ") : "-"}`,
  ].join("\n");
  const placements = v.placements.length
    ? renderTable(["CLUSTER", "COUNTRY", "REPLICAS", "READY"], v.placements.map((p) => [p.cluster, p.country, String(p.replicas), String(p.readyReplicas)]))
    : "No placements.\n";
  const conditions = v.conditions.length
    ? renderTable(["CONDITION", "STATUS", "REASON", "SINCE", "MESSAGE"], v.conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime, c.message]))
    : "No conditions: the control plane has not reconciled this workload yet.\n";
  const rejected = v.rejected.length
    ? renderTable(["REJECTED CLUSTER", "REASONS"], v.rejected.map((r) => [r.cluster, r.reasons.join(",")]))
    : "No rejected clusters.\n";
  return `${head}\n\n${placements}\n${conditions}\n${rejected}`;
}

/** `namespace`: -n, else the context's, resolved by the caller. */
export async function runStatus({ options, namespace, host, write }: { options: StatusOptions; namespace: string; host: Pick<HostApi, "getSovereignWorkload">; write: (text: string) => void }): Promise<void> {
  const w = await host.getSovereignWorkload(namespace, options.name);
  if (!w) throw CommandError.notFound(`SovereignWorkload "${options.name}" not found in namespace "${namespace}"`);
  const view = workloadStatusView(w);
  write(options.output === "table" ? statusTable(view) : renderDocument(view, options.output));
}
