// The alert rules the control-plane chart ships, checked by Prometheus' own promtool:
// syntax (`check rules`) and behaviour (`test rules`, positive and negative cases per
// alert, in rules/*.test.yaml), plus what promtool cannot know: that every alert has both
// kinds of case, a severity, annotations that name the labels, and reads only metrics the
// operator defines.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { METRICS } from "../../../operator/src/metrics/index.ts";
import { operatorMetricsIn } from "../../../hack/lib/dashboard/index.ts";
import { findPromtool, promtool } from "./promtool.ts";
import { skipForMissingTool } from "../../support/missing-tool.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const RULES = path.join(root, "charts/control-plane/rules/sovereign-federation.rules.yaml");
const TESTS_DIR = path.join(import.meta.dirname, "rules");
const TEST_FILES = readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yaml")).map((f) => path.join(TESTS_DIR, f));

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTestFile {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

const alerts: AlertRule[] = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);

/** Names the exposition can carry: counters and gauges as named, histograms with their suffixes. */
const KNOWN_SERIES = new Set(
  Object.values(METRICS).flatMap((m) => (m.type === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => m.name + s) : [m.name])),
);

const EXPECTED_ALERTS = [
  "SovereignMemberNotReady",
  "SovereignMemberHeartbeatStale",
  "SovereignWorkloadNoCompliantCluster",
  "SovereignCertificationExpiringSoon",
  "SovereignReconcileErrorsRising",
  "SovereignGuardRejection",
];

describe("alert rules", () => {
  it("define every alert the operator promises, each once", () => {
    const names = alerts.map((a) => a.alert);
    for (const name of EXPECTED_ALERTS) assert.ok(names.includes(name), `${name} is missing`);
    assert.equal(new Set(names).size, names.length, `duplicate alert names: ${names.join(", ")}`);
  });

  it("give every alert a severity, a summary and a description that name the firing series' labels or value", () => {
    for (const a of alerts) {
      assert.ok(["critical", "warning"].includes(a.labels?.severity ?? ""), `${a.alert}: severity ${a.labels?.severity}`);
      assert.ok(a.annotations?.summary, `${a.alert}: no summary`);
      assert.ok((a.annotations?.description ?? "").length > 80, `${a.alert}: description too short to act on`);
      assert.match(`${a.annotations?.summary} ${a.annotations?.description}`, /\$labels\.\w+|\$value/, `${a.alert}: annotations name no label`);
    }
  });

  it("give the state-based alerts a `for`, and fire on a guard rejection at once", () => {
    for (const a of alerts) {
      if (a.alert === "SovereignGuardRejection") assert.equal(a.for, undefined, "a refused pod is an event: no pending period");
      else assert.match(a.for ?? "", /^\d+[smh]$/, `${a.alert}: no for`);
    }
  });

  it("read only metrics operator/src/metrics/definitions.ts defines", () => {
    for (const a of alerts) {
      const names = operatorMetricsIn(a.expr);
      assert.ok(names.length > 0, `${a.alert} reads no operator metric`);
      for (const n of names) assert.ok(KNOWN_SERIES.has(n), `${a.alert} reads ${n}, which definitions.ts does not define`);
    }
  });

  it("have, for every alert, a promtool case where it fires and one where it does not", () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const file of TEST_FILES) {
      for (const t of (parse(readFileSync(file, "utf8")) as RuleTestFile).tests) {
        for (const c of t.alert_rule_test ?? []) ((c.exp_alerts ?? []).length > 0 ? firing : silent).add(c.alertname);
      }
    }
    for (const a of alerts) {
      assert.ok(firing.has(a.alert), `${a.alert}: no case where it fires`);
      assert.ok(silent.has(a.alert), `${a.alert}: no case where it stays silent`);
    }
  });

  describe("with promtool", function () {
    const bin = findPromtool();
    before(function () {
      if (!bin) skipForMissingTool(this, { tool: "promtool (check/test rules)", install: "apt-get install prometheus" });
    });

    it("pass `promtool check rules`", () => {
      const r = promtool({ bin: bin!, args: ["check", "rules", RULES] });
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, new RegExp(`SUCCESS: ${alerts.length} rules found`));
    });

    for (const file of TEST_FILES) {
      it(`pass \`promtool test rules\` ${path.basename(file)}`, () => {
        const r = promtool({ bin: bin!, args: ["test", "rules", path.basename(file)], cwd: TESTS_DIR });
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, /SUCCESS/);
      });
    }

    it("fail `promtool test rules` when the alert fires against an expectation of silence (positive control: the same case passes on healthy data)", () => {
      const dir = mkdtempSync(path.join(tmpdir(), "rules-control-"));
      try {
        const silentCase = (values: string) => `rule_files: [${JSON.stringify(RULES)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'sovereign_member_ready{job="j", namespace="n", cluster="fr"}'
        values: '${values}'
    alert_rule_test:
      - eval_time: 10m
        alertname: SovereignMemberNotReady
        exp_alerts: []
`;
        writeFileSync(path.join(dir, "ready.test.yaml"), silentCase("1x12"));
        writeFileSync(path.join(dir, "notready.test.yaml"), silentCase("0x12"));
        const ready = promtool({ bin: bin!, args: ["test", "rules", "ready.test.yaml"], cwd: dir });
        assert.equal(ready.status, 0, ready.output);
        const notReady = promtool({ bin: bin!, args: ["test", "rules", "notready.test.yaml"], cwd: dir });
        assert.notEqual(notReady.status, 0, notReady.output);
        assert.match(notReady.output, /FAILED[\s\S]*SovereignMemberNotReady[\s\S]*cluster="fr"/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
