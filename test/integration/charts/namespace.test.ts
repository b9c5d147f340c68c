import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { ensureMemberClusters } from "../federation/helpers.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import {
  CHARTS, federationControlPlaneAside, federationControlPlaneBack, forbiddenLines, freePort, getJson, helm, helmOk, secretData,
  startReleaseAgent, startReleaseControlPlane,
} from "./helpers.ts";
import { serviceAccountKubeconfig } from "../../support/service-account.ts";
import type { Proc } from "./helpers.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";

/**
 * Both charts installed with `-n platform` (beside the federation's own releases in
 * sovereign-system, which stay untouched), the two processes run under those releases'
 * ServiceAccounts with POD_NAMESPACE set as the charts' downward API sets it, and a
 * workload followed from apply to Running on the member. kwok runs no containers: the
 * charts' Deployments never start a process here, so this test starts them itself.
 *
 * The member release runs without its guard (guard.enabled=false): uninstalling it here
 * would remove the member's last binding with a ConfigMap parameter, after which
 * kube-apiserver 1.34 never resolves such a parameter again until it restarts, and every
 * later suite on this member would meet "no params found". The guard's binding in the
 * release namespace is checked by render.test.ts; the parameter the agent writes, here.
 */
const NAMESPACE = "platform";
const CP_RELEASE = "sovereign-platform";
const AGENT_RELEASE = "sovereign-platform-agent";
const CP_SA = `${CP_RELEASE}-control-plane`;
const AGENT_SA = `${AGENT_RELEASE}-member-agent`;
const MEMBER = "fr";
const WORKLOAD_NS = "charts-ns-it";
const WORKLOAD = "anywhere";
const TARGET_LABEL = "charts.sovereignty.eu/test";

describe("Helm charts installed in a namespace of the user's choice (-n platform)", function () {
  this.timeout(240_000);
  let env: FederationEnv;
  let dir: string;
  let memberKc: string;
  let kc: (args: string[], kubeconfig: string, input?: string) => string;
  let restartControlPlane = false;
  let cp: Proc | undefined;
  let agent: Proc | undefined;

  before(async function () {
    this.timeout(300_000);
    env = readFederationEnv();
    memberKc = env.memberKubeconfigs[MEMBER]!;
    kc = (args, kubeconfig, input) => kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args, ...(input ? { input } : {}) });
    dir = mkdtempSync(path.join(tmpdir(), "charts-ns-it-"));
    restartControlPlane = await federationControlPlaneAside();
    ensureMemberClusters(env);
    const grpcPort = await freePort();
    const cpMetrics = await freePort();
    const agentMetrics = await freePort();

    // The federation's own release in sovereign-system keeps the cluster-wide objects
    // (CRDs, APIService, people's roles, the workload admission policy).
    helmOk(env, [
      "install", CP_RELEASE, CHARTS.controlPlane, "-n", NAMESPACE, "--create-namespace", "--set", `nats.url=${env.natsUrl}`,
      "--set", "crds.enabled=false", "--set", "query.apiService.create=false", "--set", "userRoles.create=false", "--set", "workloadAdmission.enabled=false",
    ], env.hostKubeconfig);
    // Join hands out the member's NATS credentials from this Secret, now in the control plane's namespace.
    kc(["apply", "--server-side", "--field-manager=charts-ns-it", "-f", "-"], env.hostKubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Secret", metadata: { name: `nats-member-${MEMBER}`, namespace: NAMESPACE },
      stringData: { "nkey-seed": readFileSync(env.vars.NATS_CREDS_FR!, "utf8").trim() },
    }));
    // The same federation, so the same audit ledger: this control plane appends to the chains the
    // federation's own one started, which only its signing key (and federation id) may continue.
    const ledgerKey = JSON.parse(kc(["get", "secret", "sovereign-ledger-key", "-n", "sovereign-system", "-o", "json"], env.hostKubeconfig)) as { data: Record<string, string> };
    kc(["apply", "--server-side", "--field-manager=charts-ns-it", "-f", "-"], env.hostKubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Secret", metadata: { name: "sovereign-ledger-key", namespace: NAMESPACE }, data: ledgerKey.data,
    }));
    const cpKubeconfig = serviceAccountKubeconfig({ kubectl: env.tools.KUBECTL_BIN!, adminKubeconfig: env.hostKubeconfig, serviceAccount: CP_SA, namespace: NAMESPACE, dir, name: "control-plane" });
    cp = await startReleaseControlPlane({ env, kubeconfig: cpKubeconfig.node, grpcPort, metricsPort: cpMetrics, podNamespace: NAMESPACE });

    const r = spawnSync(path.join(repoRoot, "bin", "kubectl-sovereign"), ["token", "create", MEMBER, "--ttl", "10m", "--kubeconfig", env.hostKubeconfig, "--control-plane-namespace", NAMESPACE], { encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`kubectl sovereign token create: ${r.stderr}`);
    const token = r.stdout.trim();
    helmOk(env, [
      "install", AGENT_RELEASE, CHARTS.agent, "-n", NAMESPACE, "--create-namespace", "--set", "guard.enabled=false",
      "--set", `cluster.name=${MEMBER}`, "--set", `controlPlane.grpcAddress=127.0.0.1:${grpcPort}`, "--set", `controlPlane.natsUrl=${env.natsUrl}`,
      "--set", `join.bootstrapToken=${token}`,
      "--set-file", `tls.ca=${env.vars.GRPC_CA}`, "--set-file", `tls.cert=${env.vars.GRPC_CERT_FR}`, "--set-file", `tls.key=${env.vars.GRPC_KEY_FR}`,
    ], memberKc);
    const agentKubeconfig = serviceAccountKubeconfig({ kubectl: env.tools.KUBECTL_BIN!, adminKubeconfig: memberKc, serviceAccount: AGENT_SA, namespace: NAMESPACE, dir, name: "agent" });
    agent = await startReleaseAgent({
      env, member: MEMBER, memberKubeconfig: memberKc, kubeconfig: agentKubeconfig.node, namespace: NAMESPACE, secretPrefix: AGENT_SA,
      grpcPort, metricsPort: agentMetrics, dir, podNamespace: NAMESPACE,
    });
  });

  after(async function () {
    this.timeout(180_000);
    if (env) kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["delete", "swl", WORKLOAD, "-n", WORKLOAD_NS, "--ignore-not-found", "--wait=false"] });
    if (env && cp && agent) {
      // The SovereignWorkload's finalizer needs this control plane, and the member's Deployment this agent.
      await waitFor(() => getJson(env, env.hostKubeconfig, ["swl", WORKLOAD, "-n", WORKLOAD_NS]) === undefined, { what: `${WORKLOAD} gone`, timeoutMs: 60_000, intervalMs: 500 }).catch(() => undefined);
    }
    await agent?.stop();
    await cp?.stop();
    if (env) {
      const k = (kubeconfig: string, args: string[]) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args });
      helm(env, ["uninstall", AGENT_RELEASE, "-n", NAMESPACE, "--ignore-not-found"], memberKc);
      helm(env, ["uninstall", CP_RELEASE, "-n", NAMESPACE, "--ignore-not-found"], env.hostKubeconfig);
      k(env.hostKubeconfig, ["label", "membercluster", MEMBER, `${TARGET_LABEL}-`]);
      // The agent's and the control plane's own objects (credentials, facts, tokens, Lease) go with the namespaces.
      for (const kubeconfig of [env.hostKubeconfig, memberKc]) k(kubeconfig, ["delete", "namespace", NAMESPACE, WORKLOAD_NS, "--ignore-not-found", "--wait=false"]);
      await federationControlPlaneBack(restartControlPlane);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the control plane keeps the token and its Lease in platform, and the agent its credentials and the guard's parameter", () => {
    const tokens = getJson<{ items: unknown[] }>(env, env.hostKubeconfig, ["secrets", "-n", NAMESPACE, "-l", "sovereignty.eu/bootstrap-token"]);
    assert.equal(tokens?.items.length, 1, "token create wrote the token into platform");
    const lease = getJson<{ spec: { holderIdentity?: string } }>(env, env.hostKubeconfig, ["lease", "sovereign-control-plane", "-n", NAMESPACE]);
    assert.ok(lease?.spec.holderIdentity, "the control plane leads with a Lease in platform");
    assert.equal(secretData(env, memberKc, NAMESPACE, "sovereign-agent-credentials")?.cluster, MEMBER);
    const facts = getJson<{ data: Record<string, string> }>(env, memberKc, ["configmap", "sovereign-residency-facts", "-n", NAMESPACE]);
    assert.equal(facts?.data.country, "FR", "the guard's parameter lives in the release namespace");
    assert.deepEqual(forbiddenLines(agent!.output()), [], "the agent met no 403");
  });

  it("a SovereignWorkload applied on the host runs on the member, under the releases' RBAC in platform", async () => {
    kc(["label", "--overwrite", "membercluster", MEMBER, `${TARGET_LABEL}=platform`], env.hostKubeconfig);
    await waitFor(() => {
      const mc = getJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(env, env.hostKubeconfig, ["membercluster", MEMBER]);
      return mc?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    }, { what: `MemberCluster ${MEMBER} Ready`, timeoutMs: 60_000, intervalMs: 500 });
    const ns = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["create", "namespace", WORKLOAD_NS] });
    if (ns.status !== 0 && !/AlreadyExists/.test(ns.stderr)) throw new Error(ns.stderr);
    kc(["apply", "-f", "-"], env.hostKubeconfig, JSON.stringify({
      apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name: WORKLOAD, namespace: WORKLOAD_NS },
      spec: {
        replicas: 2,
        residency: { allowedCountries: ["FR"], clusterSelector: { matchLabels: { [TARGET_LABEL]: "platform" } } },
        placement: { mode: "Divided" },
        template: { metadata: { labels: { app: WORKLOAD } }, spec: { containers: [{ name: "app", image: "registry.example.eu/app:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    }));
    const uid = getJson<{ metadata: { uid: string } }>(env, env.hostKubeconfig, ["swl", WORKLOAD, "-n", WORKLOAD_NS])!.metadata.uid;
    await waitFor(() => {
      const pods = getJson<{ items: Array<{ status: { phase: string } }> }>(env, memberKc, ["pods", "-A", "-l", `sovereignty.eu/workload-uid=${uid}`]);
      return pods?.items.filter((p) => p.status.phase === "Running").length === 2;
    }, { what: `2 Running pods of ${WORKLOAD} on ${MEMBER}`, timeoutMs: 90_000, intervalMs: 500 })
      .catch((err: unknown) => { throw new Error(`no pods: agent log ${agent!.output().slice(-2000)}\ncontrol plane log ${cp!.output().slice(-2000)}`, { cause: err }); });
    await waitFor(() => getJson<{ status?: { readyReplicas?: number } }>(env, env.hostKubeconfig, ["swl", WORKLOAD, "-n", WORKLOAD_NS])?.status?.readyReplicas === 2,
      { what: `${WORKLOAD} readyReplicas 2 on the host`, timeoutMs: 60_000, intervalMs: 500 });
    assert.deepEqual(forbiddenLines(cp!.output()), [], "the control plane met no 403");
    assert.deepEqual(forbiddenLines(agent!.output()), [], "the agent met no 403");
  });
});
