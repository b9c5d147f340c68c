import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { MemberCluster } from "../../../operator/src/api/index.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { DASHBOARD_FILE, dashboardQueries, substitute } from "../../../hack/lib/dashboard/index.ts";
import { agentComponentName, CONTROL_PLANE_COMPONENT } from "../../../hack/lib/federation/index.ts";
import { namespaceManifest, workloadManifest, World } from "../../e2e/support/world.ts";
import { repoRoot } from "../env.ts";
import { Prometheus, type Sample } from "./prometheus.ts";
import { skipForMissingTool } from "../../support/missing-tool.ts";

/**
 * The dashboard and the alerts, against a real Prometheus scraping the running control
 * plane and member agents of the local federation every second: every dashboard query
 * returns data, every alert expression evaluates, and the ones that can be provoked
 * cheaply are provoked and return what they must (an agent stopped, a workload no member
 * can take, a certification about to expire).
 */

const RULES = path.join(repoRoot, "charts/control-plane/rules/sovereign-federation.rules.yaml");
const DASHBOARD = JSON.parse(readFileSync(path.join(repoRoot, DASHBOARD_FILE), "utf8")) as unknown;
const ALERT_EXPRS: Record<string, string> = Object.fromEntries(
  (parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups
    .flatMap((g) => g.rules)
    .map((r) => [r.alert, r.expr]),
);
const CP_JOB = "sovereign-control-plane";
const AGENT_JOB = "sovereign-agent";
const DAY = 86_400;
const NS = "obs-prometheus";
const EXPIRING = "obs-expiring-cert";

const value = (s: Sample) => Number(s.value[1]);
const clusters = (samples: readonly Sample[]) => samples.map((s) => s.metric.cluster ?? "").sort();

describe("observability: a real Prometheus scraping the local federation", function () {
  this.timeout(8 * 60_000);
  let world: World;
  let prom: Prometheus | undefined;
  let placedOn: string[] = [];

  before(async function () {
    this.timeout(5 * 60_000);
    world = new World();
    const { env } = world;
    const readyz = env.controlPlaneMetricsUrl.replace(/\/metrics$/, "/readyz");
    await waitFor(async () => (await fetch(readyz)).ok, {
      what: `the control plane's ${readyz} (component ${CONTROL_PLANE_COMPONENT}, log ${path.join(env.stateDir, "logs", "control-plane.log")})`,
      timeoutMs: 60_000,
    });
    world.applyFiles(["crds/examples/10-member-clusters.yaml", "crds/examples/20-policies.yaml"]);
    world.apply([namespaceManifest(NS)]);
    for (const m of env.agents) await world.untilMemberReady(m, true, 90_000);
    // A French workload: placements, intents published and acknowledged, Deployments
    // applied by agents; and something to fail over when one of its members stops.
    world.apply([workloadManifest({ namespace: NS, name: "obs-fr", replicas: 2, residency: { allowedCountries: ["FR"] }, failover: { tolerationSeconds: 5 } })]);
    const w = await world.untilStatus(NS, "obs-fr", "2 replicas ready", (x) => x.status?.readyReplicas === 2, 120_000);
    placedOn = (w.status?.placements ?? []).filter((p) => p.replicas > 0).map((p) => p.cluster);

    prom = await Prometheus.start({
      scrapeIntervalSeconds: 1,
      ruleFiles: [RULES],
      targets: [
        { job: CP_JOB, url: env.controlPlaneMetricsUrl },
        // A member's own Prometheus labels its agent with the member's name, as the
        // dashboard's `cluster` matchers on sovereign_agent_* expect.
        ...env.agents.map((m) => ({ job: AGENT_JOB, url: env.agentMetricsUrls[m]!, labels: { cluster: m } })),
      ],
    });
    await waitFor(async () => {
      const t = await prom!.targets();
      return t.length === env.agents.length + 1 && t.every((x) => x.health === "up") ? t : false;
    }, { what: "every scrape target up", timeoutMs: 30_000, intervalMs: 500 });
  });

  after(async function () {
    this.timeout(180_000);
    await prom?.stop();
    world?.kubectl(["delete", "sovereignworkloads", "--all", "-n", NS, "--wait=true", "--timeout=90s"]);
    world?.kubectl(["delete", "membercluster", EXPIRING, "--ignore-not-found", "--wait=true", "--timeout=60s"]);
  });

  const query = (expr: string) => prom!.query(expr);
  const alertExpr = (name: string) => {
    const e = ALERT_EXPRS[name];
    assert.ok(e, `no alert ${name} in ${RULES}`);
    return e;
  };

  it("scrapes the control plane and every member agent, each target up", async () => {
    const targets = await prom!.targets();
    const byJob = (job: string) => targets.filter((t) => t.labels.job === job).map((t) => t.scrapeUrl).sort();
    assert.deepEqual(byJob(CP_JOB), [world.env.controlPlaneMetricsUrl]);
    assert.deepEqual(byJob(AGENT_JOB), world.env.agents.map((m) => world.env.agentMetricsUrls[m]!).sort());
    const up = await query(`up{job=~"${CP_JOB}|${AGENT_JOB}"} == 1`);
    assert.equal(up.length, world.env.agents.length + 1);
  });

  it("finds the live exposition of the control plane and of an agent clean with promtool check metrics", async function () {
    if (spawnSync("promtool", ["--version"]).error) skipForMissingTool(this, { tool: "promtool", install: "apt-get install prometheus" });
    const agent = world.env.agents[0]!;
    for (const url of [world.env.controlPlaneMetricsUrl, world.env.agentMetricsUrls[agent]!]) {
      const text = await (await fetch(url)).text();
      assert.match(text, /^# HELP /m, `${url} is no exposition`);
      const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
      assert.equal(r.status, 0, `${url}: ${r.stdout}${r.stderr}`);
    }
  });

  it("loads the chart's alert rules and evaluates every one without error", async () => {
    const rules = await waitFor(async () => {
      const r = await prom!.rules();
      return r.length === Object.keys(ALERT_EXPRS).length && r.every((x) => x.health === "ok") ? r : false;
    }, { what: "every rule evaluated with health ok", timeoutMs: 30_000, intervalMs: 500 });
    assert.deepEqual(rules.map((r) => r.name).sort(), Object.keys(ALERT_EXPRS).sort());
    for (const r of rules) assert.ok(!r.lastError, `${r.name}: ${r.lastError}`);
  });

  it("answers the dashboard's variable queries: both jobs, every agent member", async () => {
    const jobs = await prom!.labelValues({ label: "job", match: '{__name__=~"controller_runtime_reconcile_total|sovereign_agent_heartbeats_published_total"}' });
    assert.deepEqual(jobs.sort(), [AGENT_JOB, CP_JOB].sort());
    const members = await prom!.labelValues({ label: "cluster", match: "sovereign_member_ready" });
    for (const m of world.env.agents) assert.ok(members.includes(m), `member variable lacks ${m}: ${members.join(",")}`);
  });

  it("keeps the reconcile-errors and guard-rejection expressions empty on a healthy federation, though they read live series", async () => {
    for (const name of ["SovereignReconcileErrorsRising", "SovereignGuardRejection"]) {
      assert.deepEqual(await query(alertExpr(name)), [], `${name} returned series`);
    }
    // Positive controls: the same expressions without their thresholds see every
    // controller and every agent, so they are empty because nothing is wrong, not
    // because they read nothing.
    // (An idle controller makes the error ratio 0/0, which no comparison keeps: so the
    // control checks each side of the ratio rather than the ratio.)
    for (const side of ["controller_runtime_reconcile_errors_total", "controller_runtime_reconcile_total"]) {
      const term = `sum by (namespace, job, controller) (rate(${side}[5m]))`;
      assert.ok(alertExpr("SovereignReconcileErrorsRising").includes(term), `the expression no longer reads ${term}`);
      // rate() needs two scrapes: wait for them rather than read the first second.
      await waitFor(async () => (await query(term)).some((s) => s.metric.job === CP_JOB), { what: `${term} to see the control plane's controllers`, timeoutMs: 20_000, intervalMs: 500 });
    }
    const guardNoThreshold = `sum by (namespace, job, cluster) (increase(sovereign_agent_guard_rejections_total[10m])) >= 0`;
    assert.ok(alertExpr("SovereignGuardRejection").includes(guardNoThreshold.replace(">= 0", "> 0")));
    const agents = JSON.stringify([...world.env.agents].sort());
    await waitFor(async () => JSON.stringify(clusters(await query(guardNoThreshold))) === agents, { what: `${guardNoThreshold} to return every agent (${agents})`, timeoutMs: 20_000, intervalMs: 500 });
  });

  it("returns a workload no member can take from SovereignWorkloadNoCompliantCluster's expression, and stops when it is deleted", async () => {
    const total = async () => (await query("sum(sovereign_workloads_unschedulable)")).map(value)[0] ?? 0;
    const before = await total();
    world.apply([workloadManifest({ namespace: NS, name: "obs-nowhere", replicas: 1, residency: { allowedCountries: ["IT"] } })]);
    const firing = await waitFor(async () => {
      const r = await query(alertExpr("SovereignWorkloadNoCompliantCluster"));
      return r.length > 0 && value(r[0]!) >= before + 1 ? r : false;
    }, { what: "SovereignWorkloadNoCompliantCluster's expression to count obs-nowhere", timeoutMs: 60_000, intervalMs: 500 });
    assert.equal(firing[0]!.metric.job, CP_JOB);
    world.kubectl(["delete", "sovereignworkload", "obs-nowhere", "-n", NS, "--wait=true", "--timeout=60s"]);
    await waitFor(async () => (await total()) === before, { what: `the unschedulable count back at ${before}`, timeoutMs: 60_000, intervalMs: 500 });
  });

  it("returns exactly the certifications expiring within 30 days from SovereignCertificationExpiringSoon's expression: one of 10 days appears, then goes with its MemberCluster", async () => {
    const validUntil = new Date(Date.now() + 10 * DAY * 1000).toISOString().slice(0, 10);
    const expected = async (): Promise<string[]> => {
      const list = JSON.parse(world.kubectl(["get", "memberclusters", "-o", "json"])) as { items: MemberCluster[] };
      const now = Date.now() / 1000;
      return list.items.flatMap((mc) => (mc.spec.residency.certifications ?? [])
        .filter((c) => {
          const left = Date.parse(`${c.validUntil}T00:00:00Z`) / 1000 - now;
          // A day's slack either side: validUntil is a date, the metric an instant in it.
          return left > DAY && left < 29 * DAY;
        })
        .map((c) => `${mc.metadata.name}/${c.name}`)).sort();
    };
    const seen = async () => (await query(alertExpr("SovereignCertificationExpiringSoon"))).map((s) => `${s.metric.cluster}/${s.metric.certification}`).sort();
    const before = await seen();
    assert.ok(!before.includes(`${EXPIRING}/HDS`));
    for (const e of await expected()) assert.ok(before.includes(e), `${e} expires within 30 days but is not returned: ${before.join(", ")}`);

    world.apply([{
      apiVersion: "sovereignty.eu/v1alpha1",
      kind: "MemberCluster",
      metadata: { name: EXPIRING },
      spec: {
        residency: {
          country: "FR", jurisdiction: "EU", region: "eu-west-obs", provider: "Example",
          extraterritorialExposure: [],
          certifications: [{ name: "HDS", version: "2.0", validUntil }, { name: "ISO27001", version: "2022", validUntil: "2099-12-31" }],
        },
      },
    }]);
    const firing = await waitFor(async () => {
      const r = await query(alertExpr("SovereignCertificationExpiringSoon"));
      return r.find((s) => s.metric.cluster === EXPIRING);
    }, { what: `${EXPIRING}'s HDS in SovereignCertificationExpiringSoon's expression`, timeoutMs: 60_000, intervalMs: 500 });
    assert.equal(firing.metric.certification, "HDS");
    // A date alone is valid through its end (UTC), so 10 days from now ends between 10 and 11 days ahead.
    assert.ok(value(firing) > 9.9 && value(firing) <= 11, `days left ${value(firing)}`);
    const now = await seen();
    assert.ok(!now.includes(`${EXPIRING}/ISO27001`), "a certification valid until 2099 must not be returned");
    for (const e of await expected()) assert.ok(now.includes(e), `${e} is not returned: ${now.join(", ")}`);

    // Expired certifications, if the control plane exports them, are the other alert's.
    const expired = await query(alertExpr("SovereignCertificationExpired"));
    for (const s of expired) assert.ok(Number(s.value[1]) > 0, JSON.stringify(s));

    world.kubectl(["delete", "membercluster", EXPIRING, "--wait=true", "--timeout=60s"]);
    await waitFor(async () => !(await seen()).some((e) => e.startsWith(`${EXPIRING}/`)), { what: `${EXPIRING} gone from the expression`, timeoutMs: 60_000, intervalMs: 500 });
  });

  it("returns a member from SovereignMemberNotReady's expression while its agent is stopped, then HeartbeatStale's, fails its replicas over, and returns it no more once the agent is back", async function () {
    this.timeout(6 * 60_000);
    assert.ok(placedOn.length > 0, "obs-fr is placed nowhere");
    const member = placedOn[0]!;
    const others = world.env.agents.filter((m) => m !== member);
    const notReady = async () => clusters(await query(alertExpr("SovereignMemberNotReady")));
    const stale = async () => clusters(await query(alertExpr("SovereignMemberHeartbeatStale")));
    const before = await notReady();
    for (const m of world.env.agents) assert.ok(!before.includes(m), `${m} NotReady before anything was stopped: ${before.join(",")}`);

    world.component("stop", agentComponentName(member));
    try {
      await waitFor(async () => (await notReady()).includes(member), { what: `${member} in SovereignMemberNotReady's expression`, timeoutMs: 90_000, intervalMs: 500 });
      // The rule as Prometheus loaded it sees it too (pending: `for` is 2 minutes).
      await waitFor(async () => (await query(`ALERTS{alertname="SovereignMemberNotReady", cluster="${member}"}`)).length > 0, { what: "the NotReady alert pending", timeoutMs: 30_000, intervalMs: 500 });
      const during = await notReady();
      for (const m of others) assert.ok(!during.includes(m), `${m} is NotReady too, though its agent runs: ${during.join(",")}`);
      await waitFor(async () => (await query(`sovereign_failovers_total{from_cluster="${member}"} > 0`)).length > 0, { what: `a failover away from ${member}`, timeoutMs: 120_000, intervalMs: 1000 });
      await waitFor(async () => (await stale()).includes(member), { what: `${member} in SovereignMemberHeartbeatStale's expression (age > 60 s)`, timeoutMs: 120_000, intervalMs: 1000 });
      const staleNow = await stale();
      for (const m of others) assert.ok(!staleNow.includes(m), `${m} stale too: ${staleNow.join(",")}`);
    } finally {
      world.component("start", agentComponentName(member));
    }
    await waitFor(async () => !(await notReady()).includes(member) && !(await stale()).includes(member), { what: `${member} Ready again in Prometheus`, timeoutMs: 90_000, intervalMs: 500 });
    await waitFor(async () => (await prom!.targets()).every((t) => t.health === "up"), { what: "every target up again", timeoutMs: 30_000, intervalMs: 500 });
  });

  it("answers every query of the dashboard with data", async () => {
    const queries = dashboardQueries(DASHBOARD);
    assert.ok(queries.length >= 30, `only ${queries.length} queries`);
    const empty: string[] = [];
    const nan: string[] = [];
    for (const q of queries) {
      // Windows long enough to span the activity above (Grafana would pick $__rate_interval from the scrape interval):
      // a workload's first Ready (sovereign_scheduling_reconciles_to_ready) happens once, at the suite's start,
      // which the agent-stop test above can push more than 5 minutes back.
      const expr = substitute(q.expr, { rateWindow: "30m", range: "30m" });
      const result = await query(expr);
      if (result.length === 0) empty.push(`${q.panel} [${q.refId}]: ${expr}`);
      else if (result.every((s) => !Number.isFinite(value(s)))) nan.push(`${q.panel} [${q.refId}]: ${expr}`);
    }
    assert.deepEqual(empty, [], `queries without data:\n${empty.join("\n")}`);
    assert.deepEqual(nan, [], `queries whose every series is NaN (no observation in the window):\n${nan.join("\n")}`);
  });
});
