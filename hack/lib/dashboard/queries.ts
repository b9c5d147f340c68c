/**
 * Reading queries back out of a dashboard JSON (the committed file, not the code that
 * wrote it), so tests check what Grafana will load, and turning Grafana's variables into
 * plain PromQL for a Prometheus that has no Grafana in front of it.
 */

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

interface PanelJson {
  title?: string;
  type?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: PanelJson[];
}

export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const visit = (panels: readonly PanelJson[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ panel: p.title ?? "", refId: t.refId ?? "", expr: t.expr ?? "" });
      visit(p.panels ?? []);
    }
  };
  visit((dashboard as { panels?: PanelJson[] }).panels ?? []);
  return out;
}

export interface Substitution {
  /** What `$__rate_interval` becomes, e.g. "30s" for a 1 s scrape interval. */
  rateWindow: string;
  /** What `$__range` becomes: the dashboard's time range, e.g. "15m". */
  range: string;
  /** Each template variable's value, as a regex; default ".*" (Grafana's All). */
  variables?: Record<string, string>;
}

export function substitute(expr: string, s: Substitution): string {
  let out = expr.replaceAll("$__rate_interval", s.rateWindow).replaceAll("$__range", s.range);
  out = out.replace(/\$(\w+)/g, (_, name: string) => s.variables?.[name] ?? ".*");
  return out;
}

/** Every `name{matchers}` in an expression, with its matchers as written. */
export function selectorsIn(expr: string): { metric: string; matchers: string }[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({ metric: m[1]!, matchers: m[2]! }));
}

/** The operator's metric names an expression reads (a histogram's _bucket/_sum/_count as the histogram). */
export function operatorMetricsIn(expr: string): string[] {
  const names = [...expr.matchAll(/\b((?:controller_runtime|workqueue|sovereign)_[a-z0-9_]+)/g)].map((m) => m[1]!);
  return [...new Set(names)];
}
