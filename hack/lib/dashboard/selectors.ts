import type { MetricDefinition } from "../../../operator/src/metrics/index.ts";

/**
 * Label matchers of the dashboard's queries, from the template variables. Two scopes,
 * because `cluster` means two things:
 * - on the control plane's sovereign_* series that carry it, and on a member agent's
 *   series (whose Prometheus labels them with the member's name), it is a MEMBER cluster:
 *   filtered by `$member`;
 * - on everything else it is the cluster the process runs in, as a multi-cluster
 *   Prometheus labels it: filtered by `$cluster`.
 * Every matcher is a regex, so "All" (`.*`) also matches a series without that label.
 */
const PROCESS = 'job=~"$job", namespace=~"$namespace", cluster=~"$cluster"';
const MEMBER = 'job=~"$job", namespace=~"$namespace", cluster=~"$member"';

export const RATE_WINDOW = "$__rate_interval";

function scope(def: MetricDefinition): string {
  return def.labelNames.includes("cluster") || def.name.startsWith("sovereign_agent_") ? MEMBER : PROCESS;
}

/** `name{matchers}` of a counter or gauge. */
export function series(def: MetricDefinition & { type: "counter" | "gauge" }): string {
  return `${def.name}{${scope(def)}}`;
}

/** `rate(name{matchers}[$__rate_interval])` of a counter. */
export function rate(def: MetricDefinition & { type: "counter" }): string {
  return `rate(${series(def)}[${RATE_WINDOW}])`;
}

/** `increase(name{matchers}[$__range])` of a counter: how many in the dashboard's time range. */
export function increaseOverRange(def: MetricDefinition & { type: "counter" }): string {
  return `increase(${series(def)}[$__range])`;
}

/** p-quantile of a histogram over the rate window, keeping `by` labels. */
export function quantile(opts: { q: number; def: MetricDefinition & { type: "histogram" }; by: readonly string[] }): string {
  const by = [...opts.by, "le"].join(", ");
  return `histogram_quantile(${opts.q}, sum by (${by}) (rate(${opts.def.name}_bucket{${scope(opts.def)}}[${RATE_WINDOW}])))`;
}
