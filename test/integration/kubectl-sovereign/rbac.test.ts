// kubectl sovereign with nothing but a kubeconfig: explain and audit reach the control
// plane through the host's API server (the aggregated API query.sovereignty.eu), which
// authenticates the caller and lets RBAC decide with the control-plane chart's roles.
// Real users here are ServiceAccounts of the host (their tokens are the kubeconfigs'
// credentials): one bound to sovereign-auditor, one to sovereign-viewer, one bound to
// nothing. The positive controls (a bound user succeeds) run against the same workload.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { QUERY_API_SERVICE } from "../../../operator/src/query/index.ts";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { REPO, runPlugin, type PluginResult } from "../../unit/cmd/kubectl-sovereign/run-plugin.ts";
import { serviceAccountKubeconfig } from "../../support/service-account.ts";

const NAME = "rbac-probe";

describe("kubectl sovereign through the host's API server, authorized by RBAC", function () {
  let fed: FederationEnv;
  let ns: string;
  let tmp: string;
  const kubeconfigs: Record<string, string> = {};

  const host = (args: string[], input?: string) => kubectlOk({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args, ...(input ? { input } : {}) });
  /** The plugin as a user runs it: only PATH, HOME and what the test gives (no SOVEREIGN_* at all). */
  const plugin = (args: string[], env: Record<string, string> = {}): Promise<PluginResult> =>
    runPlugin({ args, env: { PATH: `${REPO}bin:${path.dirname(fed.kubectl)}:${process.env.PATH}`, HOME: tmp, ...env } });

  /** A kubeconfig for a ServiceAccount of the test namespace (its context's namespace): a person with only a kubeconfig. */
  const userKubeconfig = (user: string): string =>
    serviceAccountKubeconfig({ kubectl: fed.kubectl, adminKubeconfig: fed.hostKubeconfig, serviceAccount: user, namespace: ns, dir: tmp }).kubectl;


  before(async function () {
    this.timeout(240_000);
    fed = readFederationEnv();
    await waitFor(async () => (await fetch(fed.controlPlaneMetricsUrl.replace(/\/metrics$/, "/readyz"))).ok, { what: "the control plane ready", timeoutMs: 60_000 });
    // The aggregator marks the APIService Available once it reached the control plane's discovery.
    await waitFor(() => {
      const r = kubectl({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args: ["get", "apiservice", QUERY_API_SERVICE, "-o", "jsonpath={.status.conditions[?(@.type==\"Available\")].status}"] });
      return r.stdout.trim() === "True";
    }, { what: `APIService ${QUERY_API_SERVICE} Available`, timeoutMs: 60_000, intervalMs: 500 });
    ns = `rbac-it-${randomBytes(3).toString("hex")}`;
    tmp = mkdtempSync(path.join(tmpdir(), "kubectl-sovereign-rbac-"));
    host(["create", "namespace", ns]);
    host(["apply", "--server-side", "--field-manager=rbac-test", "-f", `${REPO}crds/examples/10-member-clusters.yaml`]);
    host(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name: NAME, namespace: ns },
      spec: {
        replicas: 1,
        residency: { allowedCountries: ["FR", "DE"] },
        placement: { mode: "Divided" },
        template: { metadata: { labels: { app: NAME } }, spec: { containers: [{ name: "app", image: "registry.example.eu/probe:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    }));
    // Placed: the audit trail holds its record (published before the status that shows it).
    await waitFor(() => {
      const w = JSON.parse(host(["get", "sovereignworkload", NAME, "-n", ns, "-o", "json"])) as { metadata: { generation: number }; status?: { observedGeneration?: number; placements?: unknown[] } };
      return w.status?.observedGeneration === w.metadata.generation && (w.status.placements ?? []).length > 0;
    }, { what: `SovereignWorkload ${NAME} placed`, timeoutMs: 120_000, intervalMs: 500 });
    for (const user of ["auditor", "viewer", "nobody"]) host(["create", "serviceaccount", user, "-n", ns]);
    host(["create", "rolebinding", "auditor", "-n", ns, "--clusterrole", "sovereign-auditor", `--serviceaccount=${ns}:auditor`]);
    host(["create", "rolebinding", "viewer", "-n", ns, "--clusterrole", "sovereign-viewer", `--serviceaccount=${ns}:viewer`]);
    for (const user of ["auditor", "viewer", "nobody"]) kubeconfigs[user] = userKubeconfig(user);
  });

  after(function () {
    this.timeout(120_000);
    if (ns) kubectl({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args: ["delete", "namespace", ns, "--wait=true", "--timeout=90s"] });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("a viewer explains the workload with only a kubeconfig, -n taken from its context (positive control)", async () => {
    const r = await plugin(["explain", NAME, "--kubeconfig", kubeconfigs.viewer!]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CLUSTER\s+RESULT\s+COUNTRY\s+REPLICAS\s+WHY/);
    assert.match(r.stdout, new RegExp(`${ns}/${NAME}: Scheduled`));
    const json = await plugin(["explain", NAME, "-n", ns, "-o", "json"], { KUBECONFIG: kubeconfigs.viewer! });
    assert.equal(json.status, 0, json.stderr);
    const d = JSON.parse(json.stdout) as { workload: string; scheduled: boolean; placements: { replicas: number }[] };
    assert.equal(d.workload, `${ns}/${NAME}`);
    assert.equal(d.placements.reduce((n, p) => n + p.replicas, 0), 1);
  });

  it("an auditor reads the audit trail, and cannot explain or mint a join token (403 naming the permission, exit 1)", async () => {
    const audit = await plugin(["audit", NAME, "-o", "json"], { KUBECONFIG: kubeconfigs.auditor! });
    assert.equal(audit.status, 0, audit.stderr);
    const trail = JSON.parse(audit.stdout) as { workload: string; records: { action: string; cluster: string }[] };
    assert.equal(trail.workload, `${ns}/${NAME}`);
    assert.ok(trail.records.some((r) => r.action === "Placed"), audit.stdout);
    const table = await plugin(["audit", NAME], { KUBECONFIG: kubeconfigs.auditor! });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^TIME\s+ACTION\s+CLUSTER/);

    const explain = await plugin(["explain", NAME], { KUBECONFIG: kubeconfigs.auditor! });
    assert.equal(explain.status, 1, explain.stdout);
    assert.match(explain.stderr, /Forbidden/);
    assert.match(explain.stderr, /cannot get resource "sovereignworkloads\/explain" in API group "query\.sovereignty\.eu"/);
    assert.match(explain.stderr, /the roles sovereign-viewer or sovereign-admin grant it/);

    const token = await plugin(["token", "create", "ovh-par-1"], { KUBECONFIG: kubeconfigs.auditor! });
    assert.equal(token.status, 1, token.stdout);
    assert.equal(token.stdout, "", "no token printed");
    assert.match(token.stderr, /forbidden/i);
    assert.match(token.stderr, /cannot get resource "memberclusters" in API group "sovereignty\.eu"/);
  });

  it("an unbound user gets 403 from the host for explain and audit, exit status 1, the message naming the missing permission", async () => {
    for (const [command, sub] of [["audit", "audit"], ["explain", "explain"]] as const) {
      const r = await plugin([command, NAME, "-n", ns], { KUBECONFIG: kubeconfigs.nobody! });
      assert.equal(r.status, 1, `${command}: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`cannot get resource "sovereignworkloads/${sub}" in API group "query\\.sovereignty\\.eu" in the namespace "${ns}"`));
    }
    // The same refusal as kubectl itself gets it.
    const raw = kubectl({ bin: fed.kubectl, kubeconfig: kubeconfigs.nobody!, args: ["get", "--raw", `/apis/query.sovereignty.eu/v1alpha1/namespaces/${ns}/sovereignworkloads/${NAME}/audit`] });
    assert.notEqual(raw.status, 0);
    assert.match(raw.stderr, /Forbidden|forbidden/);
  });

  it("reads KUBECONFIG with several files as kubectl does: --context picks the host admin's from the second file", async () => {
    const adminContext = JSON.parse(kubectlOk({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args: ["config", "view", "-o", "json"] }))["current-context"] as string;
    const env = { KUBECONFIG: `${kubeconfigs.nobody!}:${fed.hostKubeconfig}` };
    const refused = await plugin(["audit", NAME, "-n", ns], env);
    assert.equal(refused.status, 1, "the first file's current-context (the unbound user) is used");
    const r = await plugin(["audit", NAME, "-n", ns, "--context", adminContext], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Placed/);
  });
});
