// The Grafana dashboard the control-plane chart ships, read from the committed JSON (what
// Grafana loads): current with its generator, the variables of the kubebuilder dashboards,
// every query filtered by them and valid PromQL, every panel explained, every metric one
// the operator defines.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { METRICS } from "../../../operator/src/metrics/index.ts";
import { DASHBOARD_FILE, DASHBOARD_UID, dashboardQueries, operatorMetricsIn, renderDashboard, selectorsIn, substitute } from "../../../hack/lib/dashboard/index.ts";
import { findPromtool, promtool } from "./promtool.ts";
import { skipForMissingTool } from "../../support/missing-tool.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const committed = readFileSync(path.join(root, DASHBOARD_FILE), "utf8");

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  includeAll?: boolean;
  allValue?: string;
  multi?: boolean;
  datasource?: { uid: string };
}
const dashboard = JSON.parse(committed) as { uid: string; schemaVersion: number; panels: Panel[]; templating: { list: Variable[] } };
const panels = dashboard.panels.filter((p) => p.type !== "row");
const queries = dashboardQueries(dashboard);

const KNOWN_SERIES = new Set(
  Object.values(METRICS).flatMap((m) => (m.type === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => m.name + s) : [m.name])),
);

describe("Grafana dashboard", () => {
  it("is the generator's current output (hack/gen-dashboard.ts --check)", () => {
    assert.equal(committed, renderDashboard(), `${DASHBOARD_FILE} is stale: run node hack/gen-dashboard.ts`);
    const r = spawnSync(process.execPath, [path.join(root, "hack/gen-dashboard.ts"), "--check"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });

  it("has a stable uid and a schema Grafana 10 and 11 load without migrating", () => {
    assert.equal(dashboard.uid, DASHBOARD_UID);
    assert.ok(dashboard.schemaVersion >= 38, `schemaVersion ${dashboard.schemaVersion}`);
  });

  it("offers a Prometheus datasource variable and multi-value cluster, job, namespace variables whose All is `.*`", () => {
    const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const ds = byName.get("datasource");
    assert.equal(ds?.type, "datasource");
    assert.equal(ds?.query, "prometheus");
    for (const name of ["cluster", "job", "namespace", "member"]) {
      const v = byName.get(name);
      assert.ok(v, `no ${name} variable`);
      assert.equal(v.type, "query");
      assert.equal(v.datasource?.uid, "${datasource}");
      assert.equal(v.includeAll, true);
      assert.equal(v.allValue, ".*", `${name}: All must also match series without the label`);
      assert.equal(v.multi, true);
    }
  });

  it("shows every panel the operator promises", () => {
    const titles = panels.map((p) => p.title);
    for (const t of [
      "Reconcile rate by controller and result", "Reconcile errors", "Reconcile p99 latency", "Workqueue depth", "Queue wait p99",
      "Work duration p99", "Placements by country", "Placements by cluster", "Rejections by reason", "Heartbeat age per member",
      "Members NotReady", "Failovers by cluster left", "Intent publish p99", "Intent publish-to-ack p99", "Guard rejections and restores by member",
      "Workloads unschedulable", "Certifications: days left",
    ]) assert.ok(titles.includes(t), `no panel "${t}"`);
    assert.equal(new Set(titles).size, titles.length, "two panels share a title");
  });

  it("explains every panel and queries it through the datasource variable", () => {
    for (const p of panels) {
      assert.ok((p.description ?? "").length >= 60, `${p.title}: description too short`);
      assert.equal(p.datasource?.uid, "${datasource}", p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, "${datasource}", p.title);
    }
  });

  it("lays panels out on Grafana's 24 columns without overlaps, with unique ids", () => {
    const all = dashboard.panels;
    assert.equal(new Set(all.map((p) => p.id)).size, all.length);
    for (const [i, a] of all.entries()) {
      assert.ok(a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24, `${a.title}: outside the grid`);
      for (const b of all.slice(i + 1)) {
        const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w
          && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
        assert.ok(!overlap, `${a.title} overlaps ${b.title}`);
      }
    }
  });

  it("filters every series it reads by job, namespace and cluster (or member) with regex matchers", () => {
    let checked = 0;
    for (const q of queries) {
      const sels = selectorsIn(q.expr);
      assert.ok(sels.length > 0, `${q.panel}: no selector in ${q.expr}`);
      for (const { matchers } of sels) {
        assert.match(matchers, /job=~"\$job"/, `${q.panel}: ${q.expr}`);
        assert.match(matchers, /namespace=~"\$namespace"/, `${q.panel}: ${q.expr}`);
        assert.match(matchers, /cluster=~"\$(cluster|member)"/, `${q.panel}: ${q.expr}`);
        checked++;
      }
    }
    assert.ok(checked >= panels.length);
  });

  it("reads only metrics operator/src/metrics/definitions.ts defines, and most of them", () => {
    const used = new Set<string>();
    for (const q of queries) {
      for (const n of operatorMetricsIn(q.expr)) {
        assert.ok(KNOWN_SERIES.has(n), `${q.panel} reads ${n}, which definitions.ts does not define`);
        used.add(n.replace(/_(bucket|sum|count)$/, ""));
      }
    }
    const unused = Object.values(METRICS).map((m) => m.name).filter((n) => !used.has(n));
    // Not shown: the add rate (Workqueue depth and Retries tell more) and the stuck-worker diagnostics, read from /metrics when needed.
    assert.deepEqual(unused.sort(), ["workqueue_adds_total", "workqueue_longest_running_processor_seconds", "workqueue_unfinished_work_seconds"].sort());
  });

  it("turns Grafana's variables into plain PromQL: All is `.*`, the windows are durations", () => {
    const expr = 'rate(x{job=~"$job", cluster=~"$member"}[$__rate_interval]) + increase(y[$__range])';
    assert.equal(substitute(expr, { rateWindow: "30s", range: "15m" }), 'rate(x{job=~".*", cluster=~".*"}[30s]) + increase(y[15m])');
    assert.equal(substitute(expr, { rateWindow: "30s", range: "15m", variables: { member: "fr|de" } }), 'rate(x{job=~".*", cluster=~"fr|de"}[30s]) + increase(y[15m])');
  });

  describe("with promtool", function () {
    const bin = findPromtool();
    before(function () {
      if (!bin) skipForMissingTool(this, { tool: "promtool (the PromQL syntax check)", install: "apt-get install prometheus" });
    });

    it("has only valid PromQL once the variables are substituted (each query checked as a recording rule)", () => {
      const dir = mkdtempSync(path.join(tmpdir(), "dashboard-promql-"));
      try {
        const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: substitute(q.expr, { rateWindow: "30s", range: "15m" }) }));
        const file = path.join(dir, "queries.yaml");
        writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
        const r = promtool({ bin: bin!, args: ["check", "rules", file] });
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, new RegExp(`SUCCESS: ${queries.length} rules found`));
        // Positive control: the same check refuses a broken query.
        writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules: [{ record: "dashboard:broken", expr: "sum by (le (rate(x[1m]))" }] }] }));
        assert.notEqual(promtool({ bin: bin!, args: ["check", "rules", file] }).status, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
