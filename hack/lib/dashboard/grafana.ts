/**
 * The few Grafana dashboard shapes we use (schemaVersion 39: Grafana 10.4 and 11 read it
 * without migrating), as plain builders so the panel list reads as what it shows. Every
 * panel and query names the `datasource` template variable, so the dashboard works with
 * whatever Prometheus a Grafana has, including one loaded by kube-prometheus-stack's
 * sidecar from a ConfigMap (no `__inputs` to resolve there).
 */

export const SCHEMA_VERSION = 39;
export const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. "{{controller}} {{result}}". */
  legend: string;
}

export interface Threshold {
  color: string;
  /** null is the base step (below every other value). */
  value: number | null;
}

interface PanelBase {
  title: string;
  /** What it shows and what to do about it, shown behind the panel's (i) icon. */
  description: string;
  queries: readonly Query[];
  /** Grafana unit id: "s", "reqps", "ops", "short", "suffix: days", ... */
  unit: string;
  /** Grid width (of 24) and height. */
  width: number;
  height?: number;
  thresholds?: readonly Threshold[];
  min?: number;
}

export type PanelSpec =
  | (PanelBase & { kind: "timeseries"; stack?: boolean; thresholdLine?: boolean })
  | (PanelBase & { kind: "stat" })
  | (PanelBase & { kind: "bargauge" })
  | (PanelBase & { kind: "state-timeline"; mappings: Record<string, { text: string; color: string }> });

export interface RowSpec {
  title: string;
  panels: readonly PanelSpec[];
}

export interface VariableSpec {
  name: string;
  label: string;
  description: string;
  /** A Grafana `label_values(selector, label)` query. */
  query: string;
}

const GREEN_ONLY: readonly Threshold[] = [{ color: "green", value: null }];

function targets(queries: readonly Query[], instant: boolean): Json[] {
  return queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DATASOURCE,
    expr: q.expr,
    legendFormat: q.legend,
    range: !instant,
    instant,
    editorMode: "code",
  }));
}

function fieldDefaults(p: PanelSpec, custom: Record<string, Json>): Record<string, Json> {
  const defaults: Record<string, Json> = {
    unit: p.unit,
    color: { mode: p.kind === "timeseries" || p.kind === "state-timeline" ? "palette-classic" : "thresholds" },
    thresholds: { mode: "absolute", steps: (p.thresholds ?? GREEN_ONLY).map((t) => ({ color: t.color, value: t.value })) },
    custom,
  };
  if (p.min !== undefined) defaults.min = p.min;
  if (p.kind === "state-timeline") {
    defaults.mappings = [{ type: "value", options: Object.fromEntries(Object.entries(p.mappings).map(([value, m], index) => [value, { ...m, index }])) }];
  }
  return defaults;
}

function panelJson(p: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }): Record<string, Json> {
  const base = { id, type: p.kind, title: p.title, description: p.description, datasource: DATASOURCE, gridPos };
  switch (p.kind) {
    case "timeseries":
      return {
        ...base,
        fieldConfig: {
          defaults: fieldDefaults(p, {
            drawStyle: "line",
            lineWidth: 1,
            fillOpacity: p.stack ? 30 : 10,
            showPoints: "never",
            spanNulls: false,
            stacking: { mode: p.stack ? "normal" : "none", group: "A" },
            thresholdsStyle: { mode: p.thresholdLine ? "line" : "off" },
          }),
          overrides: [],
        },
        options: {
          legend: { displayMode: "table", placement: "bottom", showLegend: true, calcs: ["lastNotNull", "max"] },
          tooltip: { mode: "multi", sort: "desc" },
        },
        targets: targets(p.queries, false),
      };
    case "stat":
      return {
        ...base,
        fieldConfig: { defaults: fieldDefaults(p, {}), overrides: [] },
        options: {
          reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
          colorMode: "background",
          graphMode: "none",
          justifyMode: "auto",
          orientation: "auto",
          textMode: "auto",
        },
        targets: targets(p.queries, true),
      };
    case "bargauge":
      return {
        ...base,
        fieldConfig: { defaults: fieldDefaults(p, {}), overrides: [] },
        options: {
          reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
          orientation: "horizontal",
          displayMode: "gradient",
          showUnfilled: true,
          valueMode: "color",
          namePlacement: "left",
        },
        targets: targets(p.queries, true),
      };
    case "state-timeline":
      return {
        ...base,
        fieldConfig: { defaults: fieldDefaults(p, { fillOpacity: 80, lineWidth: 0 }), overrides: [] },
        options: { showValue: "never", mergeValues: true, rowHeight: 0.9, alignValue: "left", legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "single", sort: "none" } },
        targets: targets(p.queries, false),
      };
  }
}

/** Rows full width, their panels left to right, wrapping at Grafana's 24 columns. */
export function layout(rows: readonly RowSpec[]): Json[] {
  const out: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    out.push({ id: id++, type: "row", title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const h = p.height ?? 8;
      if (x + p.width > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      out.push(panelJson(p, id++, { x, y, w: p.width, h }));
      x += p.width;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return out;
}

/** The datasource picker, then one multi-value query variable per spec, "All" meaning `.*`. */
export function templating(variables: readonly VariableSpec[]): Json {
  return {
    list: [
      {
        name: "datasource",
        label: "Data source",
        description: "The Prometheus that scrapes the control plane and the member agents.",
        type: "datasource",
        query: "prometheus",
        current: {},
        hide: 0,
        includeAll: false,
        multi: false,
        options: [],
        refresh: 1,
        regex: "",
        skipUrlSync: false,
      },
      ...variables.map((v) => ({
        name: v.name,
        label: v.label,
        description: v.description,
        type: "query",
        datasource: DATASOURCE,
        definition: v.query,
        query: { qryType: 1, query: v.query, refId: "PrometheusVariableQueryEditor-VariableQuery" },
        // `.*` also matches a series without the label: a single-cluster Prometheus has no
        // `cluster` label, and "All" must still show everything.
        includeAll: true,
        allValue: ".*",
        multi: true,
        current: { selected: true, text: ["All"], value: ["$__all"] },
        hide: 0,
        options: [],
        refresh: 2,
        regex: "",
        sort: 1,
        skipUrlSync: false,
      })),
    ],
  };
}
