/**
 * The pure part of `npm run bench -- e2e`: summaries of latency samples, the direct /
 * federated / overhead table, ratios, counters read from a Prometheus text exposition,
 * and the drift lines. Tested without a federation (test/unit/bench/).
 */
import { quantile } from "./stats.ts";

export const PERCENTILES = [0.5, 0.9, 0.99] as const;

export interface Timed {
  /** How many samples. */
  n: number;
  /** Latency at each of PERCENTILES, in ms, in that order. */
  percentiles: number[];
  max: number;
  /** Items done per second over the whole run (first start to last done). */
  throughputPerS: number;
}

export function latencySummary(latencies: readonly number[], wallMs: number): Timed {
  const sorted = Float64Array.from(latencies).sort();
  return {
    n: latencies.length,
    percentiles: PERCENTILES.map((q) => quantile(sorted, q)),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    throughputPerS: wallMs > 0 ? (latencies.length / wallMs) * 1000 : NaN,
  };
}

export const percentileLabel = (q: number): string => `p${Number((q * 100).toFixed(1))}`;

/** federated / direct; NaN when either side is missing or the baseline is zero. */
export function ratio(federated: number, direct: number): number {
  return Number.isFinite(federated) && Number.isFinite(direct) && direct > 0 ? federated / direct : NaN;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "n/a");
const signedMs = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(0)} ms` : "n/a");

/** One row per percentile: direct, federated, and the federation's overhead (federated − direct). */
export function overheadRows(direct: Timed, federated: Timed): { label: string; direct: number; federated: number; overhead: number }[] {
  return PERCENTILES.map((q, i) => ({
    label: percentileLabel(q),
    direct: direct.percentiles[i]!,
    federated: federated.percentiles[i]!,
    overhead: federated.percentiles[i]! - direct.percentiles[i]!,
  }));
}

/** The table the bench prints, columns aligned; `target` is the overhead allowed at every percentile. */
export function overheadTable(p: { direct: Timed; federated: Timed; targetMs: number }): string {
  const rows = [["", "direct", "federated", "overhead", `(target ≤ ${p.targetMs} ms)`]];
  for (const r of overheadRows(p.direct, p.federated)) {
    rows.push([r.label, ms(r.direct), ms(r.federated), signedMs(r.overhead), verdict(r.overhead <= p.targetMs)]);
  }
  rows.push(["max", ms(p.direct.max), ms(p.federated.max), signedMs(p.federated.max - p.direct.max), ""]);
  rows.push(["throughput", `${p.direct.throughputPerS.toFixed(1)}/s`, `${p.federated.throughputPerS.toFixed(1)}/s`, "", ""]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd()).join("\n");
}

export function verdict(ok: boolean): string {
  return ok ? "meets target" : "MISSES target";
}

/**
 * The sum of every sample of counter `name` whose labels include `labels`, from a
 * Prometheus text exposition; undefined when the exposition has no such sample at all
 * (the metric does not exist in this build), which is not the same as 0.
 */
export function counterSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = parseLabels(m[2] ?? "");
    if (!Object.entries(labels).every(([k, v]) => have[k] === v)) continue;
    sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, "$1");
  return out;
}

/** The counters that count scheduling reconciles, best first, with what each one counts. */
export const RECONCILE_COUNTERS: readonly { name: string; labels: Record<string, string>; counts: string }[] = [
  { name: "sovereign_scheduling_reconciles_total", labels: {}, counts: "scheduling reconciles (sovereign_scheduling_reconciles_total)" },
  {
    name: "controller_runtime_reconcile_total", labels: { controller: "sovereignworkload" },
    counts: "every reconcile of the workload controller (controller_runtime_reconcile_total{controller=\"sovereignworkload\"}: no scheduling-only counter in this build)",
  },
];

/** Which counter the control plane exposes (the first of RECONCILE_COUNTERS present), and its value now. */
export function reconcileCounter(text: string): { name: string; counts: string; value: number } | undefined {
  for (const c of RECONCILE_COUNTERS) {
    const value = counterSum(text, c.name, c.labels);
    if (value !== undefined) return { name: c.name, counts: c.counts, value };
  }
  return undefined;
}

/** A gauge's single value (e.g. process_resident_memory_bytes), or undefined if absent. */
export function gauge(text: string, name: string): number | undefined {
  return counterSum(text, name);
}

export type DriftKind = "deleted" | "scaled" | "edited";

export interface DriftResult {
  kind: DriftKind;
  /** Time from the change on the member to the Deployment as the intent says; absent when it was not restored in time. */
  restoredMs?: number;
  timeoutMs: number;
  /** Why it could not be measured at all (e.g. no Deployment to change), if so. */
  error?: string;
}

const DRIFT_WHAT: Record<DriftKind, string> = {
  deleted: "Deployment deleted on a member",
  scaled: "Deployment scaled on a member",
  edited: "Deployment's image edited on a member",
};

export function driftLine(r: DriftResult, targetMs: number): string {
  const what = DRIFT_WHAT[r.kind].padEnd(38);
  if (r.error) return `${what} not measured: ${r.error}`;
  if (r.restoredMs === undefined) return `${what} not restored within ${(r.timeoutMs / 1000).toFixed(0)} s (target ≤ ${targetMs / 1000} s: MISSES target)`;
  return `${what} restored in ${ms(r.restoredMs)} (target ≤ ${targetMs / 1000} s: ${verdict(r.restoredMs <= targetMs)})`;
}

/** The median of a few samples (the single-workload rounds). */
export function median(xs: readonly number[]): number {
  return quantile(Float64Array.from(xs).sort(), 0.5);
}
