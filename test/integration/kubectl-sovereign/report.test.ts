// `kubectl sovereign report` on the running federation's own ledger, after a failover: a
// workload runs on one member with an agent, that agent is stopped, the control plane
// moves the replicas, and the report of the exported trail (and of the control plane's
// export, without --from) must show the move, who decided it and why, the two stays on
// either side of it, and the failover on the HTML timeline (read back from a headless
// Chromium screenshot, kept under test-output/report/).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import type { ResidencyReport } from "../../../operator/src/ledger/report/index.ts";
import { FAILOVER_COLOUR } from "../../../operator/src/ledger/report/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { REPO, runPlugin, type PluginResult } from "../../unit/cmd/kubectl-sovereign/run-plugin.ts";
import { decodePng } from "../../unit/ledger/report/png.ts";
import { chromium, screenshot, tallColumns } from "../../unit/ledger/report/screenshot.ts";
import { skipForMissingTool } from "../../support/missing-tool.ts";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { kubectlOk } from "../kubectl.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";

const NAME = "report-probe";

describe("kubectl sovereign report of the federation's ledger, after a failover", function () {
  this.timeout(600_000);
  let fed: FederationEnv;
  let ns: string;
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let uid: string;
  let from: string;
  let stopped: string | undefined;
  let agents: string[];

  const host = (args: string[], input?: string) => kubectlOk({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args, ...(input ? { input } : {}) });
  const plugin = (args: string[]): Promise<PluginResult> => runPlugin({ args, env });
  const federation = (verb: "stop" | "start", name: string) => execFileSync(path.join(REPO, "hack", "federation"), [verb, name], { stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });
  const read = () => JSON.parse(host(["get", "sovereignworkload", NAME, "-n", ns, "-o", "json"])) as SovereignWorkload;
  const memberReady = (name: string) => (JSON.parse(host(["get", "membercluster", name, "-o", "json"])) as MemberCluster).status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

  before(async function () {
    fed = readFederationEnv();
    // The members with an agent in this federation's shape (the default, or e.g. --members ovh-par-1,ionos-fra-1).
    agents = (fed.vars.FEDERATION_AGENTS ?? "").split(",").filter(Boolean);
    assert.ok(agents.length >= 2, `a failover needs two agent members, the federation has ${agents.join(", ") || "none"}`);
    await waitFor(async () => (await fetch(fed.controlPlaneMetricsUrl.replace(/\/metrics$/, "/readyz"))).ok, { what: "the control plane ready", timeoutMs: 60_000 });
    ns = `report-it-${randomBytes(3).toString("hex")}`;
    tmp = mkdtempSync(path.join(tmpdir(), "kubectl-sovereign-report-"));
    env = {
      PATH: `${REPO}bin:${path.dirname(fed.kubectl)}:${process.env.PATH}`,
      HOME: tmp,
      KUBECONFIG: fed.hostKubeconfig,
      SOVEREIGN_GRPC_ADDRESS: fed.controlPlaneGrpcAddress,
      SOVEREIGN_GRPC_CA: fed.grpcCa,
      SOVEREIGN_GRPC_CERT: fed.vars.GRPC_CERT_ADMIN,
      SOVEREIGN_GRPC_KEY: fed.vars.GRPC_KEY_ADMIN,
    };
    host(["create", "namespace", ns]);
    host(["apply", "--server-side", "--field-manager=report-test", "-f", `${REPO}crds/examples/10-member-clusters.yaml`]);
    for (const m of agents) await waitFor(async () => memberReady(m), { what: `${m} Ready`, timeoutMs: 120_000, intervalMs: 1000 });
    host(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "sovereignty.eu/v1alpha1",
      kind: "SovereignWorkload",
      metadata: { name: NAME, namespace: ns },
      spec: {
        replicas: 2,
        // Every example member with an agent holds ISO27001 (crds/examples); aws-fra-1 is excluded by its exposure.
        residency: { allowedCountries: ["FR", "DE"], requiredCertifications: ["ISO27001"], forbidExtraterritorialExposure: true, crossBorderFailover: true },
        placement: { maxClusters: 1 },
        failover: { enabled: true, tolerationSeconds: 0 },
        template: { metadata: { labels: { app: NAME } }, spec: { containers: [{ name: "app", image: "registry.example.eu/probe:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    }));
    const w = await waitFor(() => {
      const x = read();
      return x.status?.readyReplicas === 2 && x.status.placements?.length === 1 ? x : undefined;
    }, { what: `${NAME} Ready on one member`, timeoutMs: 120_000, intervalMs: 500 });
    uid = w.metadata.uid!;
    from = w.status!.placements![0]!.cluster;
    assert.ok(agents.includes(from), `placed on an agent member, got ${from}`);

    federation("stop", `agent-${from}`);
    stopped = from;
    await waitFor(() => {
      const x = read();
      const ps = x.status?.placements ?? [];
      return !ps.some((p) => p.cluster === from) && ps.reduce((n, p) => n + p.replicas, 0) === 2 ? x : undefined;
    }, { what: `${NAME} failed over off ${from}`, timeoutMs: 240_000, intervalMs: 1000 });
    federation("start", `agent-${from}`);
    stopped = undefined;
    await waitFor(async () => memberReady(from), { what: `${from} Ready again`, timeoutMs: 120_000, intervalMs: 1000 });
  });

  after(function () {
    this.timeout(180_000);
    if (stopped) federation("start", `agent-${stopped}`);
    if (ns) host(["delete", "namespace", ns, "--wait=true", "--timeout=90s"]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** What every report of this run must say about the probe, whichever way the trail came. */
  function assertFailover(report: ResidencyReport): void {
    assert.equal(report.verification.clean, true, JSON.stringify(report.verification.findings.slice(0, 5)));
    assert.equal(report.workloads.length, 1);
    const w = report.workloads[0]!;
    assert.equal(w.workload.uid, uid);
    const left = w.moves.find((m) => m.cluster === from && m.replicasAfter === 0 && m.failover);
    assert.ok(left, `a failover move off ${from}: ${JSON.stringify(w.moves)}`);
    const arrived = w.moves.filter((m) => m.fromCluster === from && m.replicasAfter > m.replicasBefore);
    assert.ok(arrived.length > 0 && arrived.every((m) => m.failover && m.time === left.time && m.decidedBy.startsWith("control-plane/")), JSON.stringify(w.moves));
    const onFrom = w.stays.filter((s) => s.cluster === from);
    assert.equal(onFrom.at(-1)?.to, left.time, "the stay on the stopped member ends at the failover");
    assert.equal(onFrom.at(-1)?.replicas, 2);
    for (const m of arrived) assert.ok(w.stays.some((s) => s.cluster === m.cluster && s.from === m.time), `a stay on ${m.cluster} starts at the failover`);
    assert.ok(w.certifications.some((c) => c.cluster === from && c.name === "ISO27001" && c.required && c.validAtDecision));
  }

  it("reports an exported trail offline: the failover, who decided it, the stays either side", async () => {
    const trail = path.join(tmp, "trail.jsonl");
    const exported = await plugin(["audit", "export", "-o", trail]);
    assert.equal(exported.status, 0, exported.stderr);
    const r = await plugin(["report", `${ns}/${NAME}`, "--from", trail, "-o", "json"]);
    assert.equal(r.status, 0, r.stderr);
    assertFailover(JSON.parse(r.stdout) as ResidencyReport);
    const md = await plugin(["report", NAME, "-n", ns, "--from", trail]);
    assert.equal(md.status, 0, md.stderr);
    assert.match(md.stdout, new RegExp(`\\| \\*\\*failover\\*\\* Evicted \\| ${from} \\|`));
  });

  it("reports straight from the control plane's export without --from", async () => {
    const r = await plugin(["report", `${ns}/${NAME}`, "-o", "json"]);
    assert.equal(r.status, 0, r.stderr);
    assertFailover(JSON.parse(r.stdout) as ResidencyReport);
  });

  it("draws the failover on the HTML timeline, as headless Chromium renders it", async function () {
    const bin = chromium();
    if (!bin) skipForMissingTool(this, { tool: "chromium (renders the report's HTML)", install: "apt-get install chromium, or run hack/system-packages as root" });
    const r = await plugin(["report", `${ns}/${NAME}`, "-o", "html"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`⚡ failover ${from} → `), "the failover is labelled on the timeline");
    const png = screenshot(bin!, "federation-failover", r.stdout);
    writeFileSync(path.join(tmp, "report.html"), r.stdout);
    const img = decodePng(readFileSync(png));
    assert.equal(tallColumns(img, FAILOVER_COLOUR).length > 0, true, "a failover line is drawn");
  });
});
