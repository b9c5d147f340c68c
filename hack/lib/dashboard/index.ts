// The Grafana dashboard as code: what hack/gen-dashboard.ts writes and tests compare.
import { layout, SCHEMA_VERSION, templating, type Json } from "./grafana.ts";
import { ROWS, VARIABLES } from "./panels.ts";

export { ROWS, VARIABLES } from "./panels.ts";
export { dashboardQueries, operatorMetricsIn, selectorsIn, substitute, type DashboardQuery, type Substitution } from "./queries.ts";
export { SCHEMA_VERSION, type PanelSpec, type Query, type RowSpec, type VariableSpec } from "./grafana.ts";

/** Where the chart includes it from (.Files.Get), relative to the repository root. */
export const DASHBOARD_FILE = "charts/control-plane/dashboards/sovereign-federation.json";
/** Stable, so a re-imported or upgraded dashboard replaces the old one instead of adding a copy. */
export const DASHBOARD_UID = "sovereign-federation";

export function sovereignDashboard(): Json {
  return {
    uid: DASHBOARD_UID,
    title: "Sovereign Federation",
    description: "Residency-aware placement across member clusters: reconcilers, queues, placements by country and cluster, member health, the federation protocol and the member agents.",
    tags: ["sovereign-federation", "kubernetes", "operator"],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    timepicker: {},
    timezone: "utc",
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: "",
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard",
        },
      ],
    },
    templating: templating(VARIABLES),
    panels: layout(ROWS),
  };
}

/** The file's exact content: stable key order, two-space indent, final newline. */
export function renderDashboard(): string {
  return `${JSON.stringify(sovereignDashboard(), null, 2)}\n`;
}
