import type { Decision } from "../../scheduler/index.ts";

/** API.md's JSON shape; `country`, `message` and `unselected` are additions. */
export function toJson(decisions: readonly Decision[]): string {
  const out = {
    decisions: decisions.map((d) => ({
      workload: d.workload,
      scheduled: d.scheduled,
      reason: d.reason,
      message: d.message,
      placements: d.placements.map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas })),
      rejected: d.rejected.map((r) => ({ cluster: r.cluster, reasons: r.reasons })),
      unselected: d.unselected.map((u) => ({ cluster: u.cluster, reason: u.reason })),
    })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Prefixes an unselected cluster's reason in the REJECTED FOR column. */
export const NOT_CHOSEN = "(eligible, not chosen)";

const HEADER = ["WORKLOAD", "SCHEDULED", "REASON", "CLUSTER", "COUNTRY", "REPLICAS", "REJECTED FOR"] as const;

/**
 * kubectl-style columns, one row per cluster (placed, then eligible but not chosen,
 * then rejected) so an auditor reads "where, and why not there" at a glance and finds
 * every cluster; the workload's columns are filled on its first row only. Each
 * workload's summary line follows the table.
 */
export function toTable(decisions: readonly Decision[], countryOf: (cluster: string) => string): string {
  const rows: string[][] = [];
  for (const d of decisions) {
    const clusterRows: string[][] = [
      ...d.placements.map((p) => [p.cluster, p.country, String(p.replicas), ""]),
      // Eligible but not chosen: marked so that it does not read as a rejection.
      ...d.unselected.map((u) => [u.cluster, countryOf(u.cluster), "-", `${NOT_CHOSEN} ${u.reason}`]),
      ...d.rejected.map((r) => [r.cluster, countryOf(r.cluster), "-", r.reasons.join(",")]),
    ];
    if (clusterRows.length === 0) clusterRows.push(["-", "", "", ""]);
    clusterRows.forEach((cells, i) => rows.push(i === 0 ? [d.workload, String(d.scheduled), d.reason, ...cells] : ["", "", "", ...cells]));
  }
  const widths = HEADER.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join("").trimEnd();
  const summary = decisions.map((d) => `${d.workload}: ${d.message}`);
  return `${[line(HEADER), ...rows.map(line)].join("\n")}\n\n${summary.join("\n")}\n`;
}
