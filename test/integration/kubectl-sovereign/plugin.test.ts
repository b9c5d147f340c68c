// The real bin/kubectl-sovereign against the running local federation: the host's API
// server, the control plane's gRPC endpoint (mutual TLS, admin certificate) and its audit
// stream. One workload is applied in a namespace of this suite's own, runs Ready on the
// members, and each command must show what the host and the control plane hold for it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer } from "node:net";
import type { MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { REPO, runPlugin, type PluginResult } from "../../unit/cmd/kubectl-sovereign/run-plugin.ts";

const NAME = "plugin-probe";

describe("kubectl sovereign against the running federation", function () {
  let fed: FederationEnv;
  let ns: string;
  let tmp: string;
  let pluginEnv: NodeJS.ProcessEnv;
  let workload: SovereignWorkload;

  const host = (args: string[], input?: string) => kubectlOk({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args, ...(input ? { input } : {}) });
  const plugin = (args: string[], env: NodeJS.ProcessEnv = pluginEnv): Promise<PluginResult> => runPlugin({ args, env });
  const json = <T>(r: PluginResult): T => {
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  before(async function () {
    this.timeout(180_000);
    fed = readFederationEnv();
    // Only a federation whose control plane answers is worth testing the live commands on.
    await waitFor(async () => (await fetch(fed.controlPlaneMetricsUrl.replace(/\/metrics$/, "/readyz"))).ok, { what: "the control plane ready", timeoutMs: 60_000 });
    ns = `plugin-it-${randomBytes(3).toString("hex")}`;
    tmp = mkdtempSync(path.join(tmpdir(), "kubectl-sovereign-it-"));
    pluginEnv = {
      PATH: `${REPO}bin:${path.dirname(fed.kubectl)}:${process.env.PATH}`,
      HOME: tmp,
      KUBECONFIG: fed.hostKubeconfig,
      SOVEREIGN_GRPC_ADDRESS: fed.controlPlaneGrpcAddress,
      SOVEREIGN_GRPC_CA: fed.grpcCa,
      SOVEREIGN_GRPC_CERT: fed.vars.GRPC_CERT_ADMIN,
      SOVEREIGN_GRPC_KEY: fed.vars.GRPC_KEY_ADMIN,
    };
    host(["create", "namespace", ns]);
    // The example members it may run on, declared whatever ran before.
    host(["apply", "--server-side", "--field-manager=plugin-test", "-f", `${REPO}crds/examples/10-member-clusters.yaml`]);
    host(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "sovereignty.eu/v1alpha1",
      kind: "SovereignWorkload",
      metadata: { name: NAME, namespace: ns },
      spec: {
        replicas: 2,
        // HDS: only the example members with agents hold it, so the probe never lands on a
        // bare member (fr, de) that another suite declared and that then goes silent.
        residency: { allowedCountries: ["FR"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true },
        placement: { mode: "Divided" },
        failover: { enabled: true, tolerationSeconds: 30 },
        template: { metadata: { labels: { app: NAME } }, spec: { containers: [{ name: "app", image: "registry.example.eu/probe:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    }));
    workload = await waitFor(() => {
      const w = JSON.parse(host(["get", "sovereignworkload", NAME, "-n", ns, "-o", "json"])) as SovereignWorkload;
      const s = w.status;
      return s?.readyReplicas === 2 && s.observedGeneration === w.metadata.generation && (s.placements ?? []).every((p) => p.readyReplicas === p.replicas) ? w : undefined;
    }, { what: `SovereignWorkload ${NAME} Ready on the members`, timeoutMs: 120_000, intervalMs: 500 });
  });

  after(function () {
    this.timeout(120_000);
    if (ns) kubectl({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args: ["delete", "namespace", ns, "--wait=true", "--timeout=90s"] });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A port nothing listens on: bound, then released. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  describe("status", () => {
    it("shows the placements, readiness and rejected clusters the host holds", async () => {
      // What the host holds just before and just after the command: other members' readiness
      // may change the rejected reasons meanwhile, and the command must show one of the two.
      const read = () => JSON.parse(host(["get", "sovereignworkload", NAME, "-n", ns, "-o", "json"])) as SovereignWorkload;
      const before = read();
      const view = json<{ workload: string; placements: { cluster: string; country: string; replicas: number; readyReplicas: number }[]; rejected: { cluster: string; reasons: string[] }[]; conditions: { type: string; status: string }[] }>(
        await plugin(["status", NAME, "-n", ns, "-o", "json", "--kubeconfig", fed.hostKubeconfig]),
      );
      assert.equal(view.workload, `${ns}/${NAME}`);
      const after = read();
      const placementsOf = (w: SovereignWorkload) => w.status!.placements!.map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas, readyReplicas: p.readyReplicas ?? 0 }));
      const either = (got: unknown, a: unknown, b: unknown, what: string) => {
        try {
          assert.deepEqual(got, a);
        } catch {
          assert.deepEqual(got, b, what);
        }
      };
      either(view.placements, placementsOf(before), placementsOf(after), "placements as the host holds them");
      assert.ok(view.placements.every((p) => p.country === "FR"));
      either(view.rejected, before.status!.rejectedClusters, after.status!.rejectedClusters, "rejected clusters as the host holds them");
      assert.ok(view.rejected.some((r) => r.reasons.includes("CountryNotAllowed")), "a German cluster is rejected for its country");
      assert.equal(view.conditions.find((c) => c.type === "Ready")?.status, "True");

      const table = await plugin(["status", NAME, "-n", ns]);
      assert.equal(table.status, 0, table.stderr);
      for (const p of view.placements) assert.match(table.stdout, new RegExp(`^${p.cluster} +FR +${p.replicas} +${p.readyReplicas}$`, "m"));
    });

    it("fails with exit status 1 naming a workload that does not exist", async () => {
      const r = await plugin(["status", "no-such-workload", "-n", ns]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `Error from server (NotFound): SovereignWorkload "no-such-workload" not found in namespace "${ns}"\n`);
    });
  });

  describe("explain", () => {
    it("gives the control plane's decision: the placements, and a reason for every other cluster", async () => {
      const d = json<{ scheduled: boolean; placements: { cluster: string; replicas: number }[]; rejected: { cluster: string; reasons: string[] }[]; unselected: { cluster: string; reason: string }[]; message: string }>(
        await plugin(["explain", NAME, "-n", ns, "-o", "json"]),
      );
      assert.equal(d.scheduled, true);
      assert.deepEqual(d.placements.map((p) => [p.cluster, p.replicas]).sort(), workload.status!.placements!.map((p) => [p.cluster, p.replicas]).sort());
      const clusters = (JSON.parse(host(["get", "memberclusters", "-o", "json"])) as { items: MemberCluster[] }).items.map((c) => c.metadata.name).sort();
      const explained = [...d.placements, ...d.rejected, ...d.unselected].map((c) => c.cluster).sort();
      assert.deepEqual(explained, clusters, "every MemberCluster appears exactly once");
      assert.ok(d.rejected.every((r) => r.reasons.length > 0));
      for (const r of d.rejected) {
        const mc = JSON.parse(host(["get", "membercluster", r.cluster, "-o", "json"])) as MemberCluster;
        if (mc.spec.residency.country !== "FR") assert.ok(r.reasons.includes("CountryNotAllowed"), `${r.cluster} in ${mc.spec.residency.country}`);
      }

      const yaml = await plugin(["explain", NAME, "-n", ns, "-o", "yaml"]);
      assert.match(yaml.stdout, /^scheduled: true$/m);
      const table = await plugin(["explain", NAME, "-n", ns]);
      assert.equal(table.status, 0, table.stderr);
      // The summary line, as the JSON gave it; other suites' members may change readiness
      // between the two calls, which changes the counts but not the form. A placement the
      // controller keeps as it is says so (Explain answers the controller's own planning).
      const summary = String.raw`(\d+/\d+ clusters are available|placement unchanged: every cluster holding replicas is still eligible)`;
      assert.match(table.stdout, new RegExp(`^${ns}/${NAME}: Scheduled: ${summary}`, "m"), table.stdout);
      assert.match(d.message, new RegExp(`^${summary}`));
    });

    it("fails with exit status 1 and NotFound naming a workload that does not exist", async () => {
      const r = await plugin(["explain", "no-such-workload", "-n", ns]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^Error from server \\(NotFound\\): SovereignWorkload ${ns}/no-such-workload does not exist on the host\\n$`));
    });

    it("fails with exit status 1 naming the address when nothing serves gRPC there", async () => {
      const address = `127.0.0.1:${await closedPort()}`;
      const r = await plugin(["explain", NAME, "-n", ns, "--grpc-address", address]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^error: cannot reach the control plane's gRPC endpoint at ${address.replaceAll(".", "\\.")} \\(UNAVAILABLE: .*\\)\\. Check that the control plane runs`));
    });

    it("is refused with exit status 1 for a member's certificate: Explain needs the admin's", async () => {
      const member = fed.agents[0]!;
      const key = member.toUpperCase().replaceAll("-", "_");
      const r = await plugin(["explain", NAME, "-n", ns, "--grpc-cert", fed.vars[`GRPC_CERT_${key}`]!, "--grpc-key", fed.vars[`GRPC_KEY_${key}`]!]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /refused Explain: .*needs the federation's admin client certificate/);
    });
  });

  describe("clusters", () => {
    it("lists every MemberCluster with the residency facts and Ready condition the host holds", async () => {
      const view = json<{ clusters: { name: string; country: string; jurisdiction: string; provider: string; extraterritorialExposure: string[] | null; certifications: { name: string; state: string }[]; ready: { status: string; reason: string }; heartbeatAgeSeconds: number | null }[] }>(
        await plugin(["clusters", "-o", "json"]),
      );
      const items = (JSON.parse(host(["get", "memberclusters", "-o", "json"])) as { items: MemberCluster[] }).items;
      assert.deepEqual(view.clusters.map((c) => c.name), items.map((c) => c.metadata.name).sort());
      for (const mc of items) {
        const v = view.clusters.find((c) => c.name === mc.metadata.name)!;
        const r = mc.spec.residency;
        assert.deepEqual([v.country, v.jurisdiction, v.provider, v.extraterritorialExposure], [r.country, r.jurisdiction, r.provider ?? "", r.extraterritorialExposure ?? null]);
        assert.deepEqual(v.certifications.map((c) => c.name), (r.certifications ?? []).map((c) => c.name));
        const valid = new Set(mc.status?.validCertifications ?? []);
        // The plugin judges validity by the scheduler's rule; the controller's last verdict must agree.
        if (mc.status?.validCertifications) assert.deepEqual(v.certifications.filter((c) => c.state === "valid").map((c) => c.name).sort(), [...valid].sort(), mc.metadata.name);
      }
      const placed = workload.status!.placements!.map((p) => p.cluster);
      for (const name of placed) {
        const v = view.clusters.find((c) => c.name === name)!;
        assert.equal(v.ready.status, "True", `${name} runs replicas, so it is Ready`);
        assert.ok(v.heartbeatAgeSeconds !== null && v.heartbeatAgeSeconds < 60, `${name}'s heartbeat is fresh`);
      }

      const table = await plugin(["clusters"]);
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /^NAME +COUNTRY +JURISDICTION +PROVIDER +EXPOSURE +CERTIFICATIONS +READY +REASON +HEARTBEAT$/m);
      for (const name of placed) assert.match(table.stdout, new RegExp(`^${name} +FR +EU .* True +\\S+ +\\d+s ago$`, "m"));
    });

    it("fails with exit status 1 naming the kubeconfig when its API server is unreachable", async () => {
      const port = await closedPort();
      const broken = path.join(tmp, "unreachable.kubeconfig");
      writeFileSync(broken, readFileSync(fed.hostKubeconfig, "utf8").replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`));
      const r = await plugin(["clusters", "--kubeconfig", broken]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^error: cannot reach the host API server of kubeconfig ${broken.replaceAll(".", "\\.")}: .*ECONNREFUSED`));
    });
  });

  describe("audit", () => {
    it("shows the workload's placements as the audit stream recorded them", async function () {
      // A query reads the audit stream of the workload's countries from its start (the
      // subjects are per country), so on a federation that has run many tests it takes a while.
      this.timeout(200_000);
      const trail = await waitFor(async () => {
        const doc = json<{ records: { action: string; cluster: string; country: string; replicas: number; generation: number; decidedBy: string; time: string }[] }>(await plugin(["audit", NAME, "-n", ns, "-o", "json"]));
        const placed = doc.records.filter((r) => r.action === "Placed");
        return workload.status!.placements!.every((p) => placed.some((r) => r.cluster === p.cluster)) ? doc.records : undefined;
      }, { what: "audit records for every placement", timeoutMs: 120_000, intervalMs: 1000 });
      for (const p of workload.status!.placements!) {
        const rec = trail.find((r) => r.action === "Placed" && r.cluster === p.cluster)!;
        assert.deepEqual([rec.country, rec.replicas, rec.generation], [p.country, p.replicas, workload.metadata.generation]);
        assert.match(rec.decidedBy, /^control-plane\//);
      }
      assert.deepEqual(trail.map((r) => r.time), [...trail.map((r) => r.time)].sort(), "oldest first");

      const limited = json<{ records: unknown[] }>(await plugin(["audit", NAME, "-n", ns, "-o", "json", "--limit", "1"]));
      assert.equal(limited.records.length, 1);
      const table = await plugin(["audit", NAME, "-n", ns]);
      assert.match(table.stdout, /^TIME +ACTION +CLUSTER +COUNTRY +REPLICAS +FROM +REASONS +GENERATION +DECIDED BY$/m);
      assert.match(table.stdout, /^\S+Z +Placed +\S+ +FR +\d+ /m);
    });

    it("finds no records for a workload never placed, nor after --since in the future (positive control: the same query without it finds some)", async () => {
      const none = await plugin(["audit", "never-placed", "-n", ns]);
      assert.equal(none.status, 0, none.stderr);
      assert.equal(none.stdout, `No audit records for ${ns}/never-placed.\n`);
      const later = json<{ records: unknown[] }>(await plugin(["audit", NAME, "-n", ns, "-o", "json", "--since", new Date(Date.now() + 3_600_000).toISOString()]));
      assert.equal(later.records.length, 0);
      const all = json<{ records: unknown[] }>(await plugin(["audit", NAME, "-n", ns, "-o", "json", "--since", "1d"]));
      assert.ok(all.records.length > 0);
    });
  });

  describe("token create", () => {
    it("creates a token on the host and prints the member agent's exact helm install command", async () => {
      const cluster = fed.agents[0]!;
      const r = await plugin(["token", "create", cluster, "--ttl", "5m", "--grpc-address", fed.controlPlaneGrpcAddress, "--nats-url", fed.natsUrl]);
      assert.equal(r.status, 0, r.stderr);
      const token = r.stdout.trim();
      const secret = `bootstrap-token-${token.split(".")[0]}`;
      try {
        assert.equal(JSON.parse(host(["get", "secret", secret, "-n", "sovereign-system", "-o", "json"])).data.cluster, Buffer.from(cluster).toString("base64"));
        assert.ok(r.stderr.includes(`  helm install sovereign-agent charts/member-agent --namespace sovereign-system --create-namespace --set cluster.name=${cluster} --set controlPlane.grpcAddress=${fed.controlPlaneGrpcAddress} --set controlPlane.natsUrl=${fed.natsUrl} --set join.bootstrapToken=${token} --set tls.existingSecret=sovereign-agent-tls\n`), r.stderr);
      } finally {
        host(["delete", "secret", secret, "-n", "sovereign-system", "--ignore-not-found"]);
      }
    });

    it("refuses a MemberCluster that does not exist, creating no Secret", async () => {
      const before = host(["get", "secrets", "-n", "sovereign-system", "-l", "sovereignty.eu/bootstrap-token", "-o", "name"]);
      const r = await plugin(["token", "create", "no-such-cluster"]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /MemberCluster "no-such-cluster" does not exist on the host/);
      assert.equal(host(["get", "secrets", "-n", "sovereign-system", "-l", "sovereignty.eu/bootstrap-token", "-o", "name"]), before);
    });
  });

  describe("completion through kubectl", () => {
    // kubectl looks itself up by name: a link named kubectl to the built binary.
    let kubectlLink: string;
    before(() => {
      kubectlLink = path.join(tmp, "kubectl");
      symlinkSync(fed.kubectl, kubectlLink);
    });

    it("kubectl completes `kubectl sovereign` through kubectl_complete-sovereign on PATH", async () => {
      const r = await runPlugin({ args: ["__complete", "sovereign", "audit", "-o", ""], command: kubectlLink, env: pluginEnv });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "table\njson\nyaml\n:4\n");
    });

    it("offers nothing for a plugin without a completion executable (positive control: the same call finds ours)", async () => {
      const r = await runPlugin({ args: ["__complete", "sovereign", "audit", "-o", ""], command: kubectlLink, env: { ...pluginEnv, PATH: `${path.dirname(fed.kubectl)}:/usr/bin:/bin` } });
      assert.doesNotMatch(r.stdout, /yaml/);
    });
  });
});
