import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { ensureMemberClusters } from "../federation/helpers.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import {
  canI, CHARTS, federationControlPlaneAside, federationControlPlaneBack, forbiddenLines, freePort, getJson, helm, helmOk, secretData,
  startReleaseAgent, startReleaseControlPlane, SYSTEM_NAMESPACE,
} from "./helpers.ts";
import { serviceAccountKubeconfig } from "../../support/service-account.ts";
import type { Proc } from "./helpers.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";

/**
 * Both charts installed for real (control plane on the host, agent on `fr`), then the two
 * processes run with tokens of the ServiceAccounts the charts created, so the flow below
 * passes with exactly the charts' RBAC. kwok runs no containers: the charts' own
 * Deployments never start a process here, which is why this test starts them itself.
 */
const CP_RELEASE = "sovereign";
const AGENT_RELEASE = "sovereign-agent";
const CP_SA = "sovereign-control-plane";
const AGENT_SA = "sovereign-agent-member-agent";
const MEMBER = "fr";
const WORKLOAD_NS = "charts-it";
const WORKLOAD = "charted";
const TARGET_LABEL = "charts.sovereignty.eu/test";

/** The pod a PodSecurity `restricted` namespace must refuse: root, privileged, escalating. */
function privilegedPod(name: string): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Pod", metadata: { name },
    spec: { containers: [{ name: "c", image: "registry.example.eu/x:1", securityContext: { privileged: true, allowPrivilegeEscalation: true } }] },
  });
}

describe("Helm charts installed on the local federation, processes under the charts' ServiceAccounts", function () {
  this.timeout(240_000);
  let env: FederationEnv;
  let dir: string;
  let kc: (args: string[], kubeconfig: string, input?: string) => string;
  let restartControlPlane = false;
  let cp: Proc | undefined;
  let agent: Proc | undefined;
  let cpKubeconfig: { node: string; kubectl: string };
  let agentKubeconfig: { node: string; kubectl: string };
  let cpMetrics: number;
  let agentMetrics: number;
  let grpcPort: number;
  let oldCrdHadCountries: boolean;
  let memberKc: string;

  before(async function () {
    this.timeout(300_000);
    env = readFederationEnv();
    memberKc = env.memberKubeconfigs[MEMBER]!;
    kc = (args, kubeconfig, input) => kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args, ...(input ? { input } : {}) });
    dir = mkdtempSync(path.join(tmpdir(), "charts-it-"));
    restartControlPlane = await federationControlPlaneAside();
    // As a cluster admin has it before Helm: CRDs applied with kubectl, MemberClusters declared.
    ensureMemberClusters(env);
    kc(["label", "--overwrite", "namespace", SYSTEM_NAMESPACE, "pod-security.kubernetes.io/enforce=restricted"], env.hostKubeconfig);

    // The release before this one: a chart whose SovereignWorkload CRD lacks status.countries.
    const old = path.join(dir, "control-plane-old");
    cpSync(CHARTS.controlPlane, old, { recursive: true });
    const crdFile = path.join(old, "files", "crds", "sovereignty.eu_sovereignworkloads.yaml");
    const crd = parse(readFileSync(crdFile, "utf8"));
    for (const v of crd.spec.versions) delete v.schema.openAPIV3Schema.properties.status.properties.countries;
    writeFileSync(crdFile, stringify(crd));
    writeFileSync(path.join(old, "Chart.yaml"), readFileSync(path.join(old, "Chart.yaml"), "utf8").replace(/^version: .*$/m, "version: 0.0.9"));

    grpcPort = await freePort();
    cpMetrics = await freePort();
    agentMetrics = await freePort();
    // The federation's own release owns the APIService and the roles for people (cluster-wide names).
    const cpValues = ["--set", `nats.url=${env.natsUrl}`, "--set", "query.apiService.create=false", "--set", "userRoles.create=false"];
    // The CRDs were applied with kubectl: no Helm release owns them yet (--take-ownership),
    // and kubectl's field managers hold their fields (--force-conflicts).
    helmOk(env, ["install", CP_RELEASE, old, "-n", SYSTEM_NAMESPACE, "--take-ownership", "--force-conflicts", ...cpValues], env.hostKubeconfig);
    const before = getJson<{ spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } } }> } }>(env, env.hostKubeconfig, ["crd", "sovereignworkloads.sovereignty.eu"]);
    oldCrdHadCountries = "countries" in before!.spec.versions[0]!.schema.openAPIV3Schema.properties.status.properties;
    helmOk(env, ["upgrade", CP_RELEASE, CHARTS.controlPlane, "-n", SYSTEM_NAMESPACE, "--reuse-values"], env.hostKubeconfig);

    // Join hands out the member's NATS credentials from this Secret (provisioned by whoever runs NATS).
    const seed = readFileSync(env.vars.NATS_CREDS_FR!, "utf8").trim();
    kc(["apply", "--server-side", "--field-manager=charts-it", "-f", "-"], env.hostKubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Secret", metadata: { name: `nats-member-${MEMBER}`, namespace: SYSTEM_NAMESPACE }, stringData: { "nkey-seed": seed },
    }));

    cpKubeconfig = serviceAccountKubeconfig({ kubectl: env.tools.KUBECTL_BIN!, adminKubeconfig: env.hostKubeconfig, serviceAccount: CP_SA, namespace: SYSTEM_NAMESPACE, dir, name: "control-plane" });
    cp = await startReleaseControlPlane({ env, kubeconfig: cpKubeconfig.node, grpcPort, metricsPort: cpMetrics, args: ["--leader-election-namespace", SYSTEM_NAMESPACE] });

    // The admin's half of Join, then the member's install, as `token create` prints it.
    const token = kubectlSovereignToken(env);
    const ns = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: memberKc, args: ["create", "namespace", SYSTEM_NAMESPACE] });
    if (ns.status !== 0 && !/AlreadyExists/.test(ns.stderr)) throw new Error(ns.stderr);
    kc(["label", "--overwrite", "namespace", SYSTEM_NAMESPACE, "pod-security.kubernetes.io/enforce=restricted"], memberKc);
    helmOk(env, [
      // Other suites (the agent's) may have applied the guard on this member under their own
      // field manager: the chart takes it over, as an upgrade from a hand-applied guard would.
      "install", AGENT_RELEASE, CHARTS.agent, "-n", SYSTEM_NAMESPACE, "--take-ownership", "--force-conflicts",
      "--set", `cluster.name=${MEMBER}`, "--set", `controlPlane.grpcAddress=127.0.0.1:${grpcPort}`, "--set", `controlPlane.natsUrl=${env.natsUrl}`,
      "--set", `join.bootstrapToken=${token}`,
      "--set-file", `tls.ca=${env.vars.GRPC_CA}`, "--set-file", `tls.cert=${env.vars.GRPC_CERT_FR}`, "--set-file", `tls.key=${env.vars.GRPC_KEY_FR}`,
    ], memberKc);

    agentKubeconfig = serviceAccountKubeconfig({ kubectl: env.tools.KUBECTL_BIN!, adminKubeconfig: memberKc, serviceAccount: AGENT_SA, namespace: SYSTEM_NAMESPACE, dir, name: "agent" });
    agent = await startReleaseAgent({
      env, member: MEMBER, memberKubeconfig: memberKc, kubeconfig: agentKubeconfig.node, namespace: SYSTEM_NAMESPACE, secretPrefix: AGENT_SA,
      grpcPort, metricsPort: agentMetrics, dir,
    });
  });

  after(async function () {
    this.timeout(180_000);
    if (env) {
      kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["delete", "swl", WORKLOAD, "-n", WORKLOAD_NS, "--ignore-not-found", "--wait=false"] });
    }
    await agent?.stop();
    await cp?.stop();
    if (env) {
      const k = (kubeconfig: string, args: string[]) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args });
      helm(env, ["uninstall", AGENT_RELEASE, "-n", SYSTEM_NAMESPACE, "--ignore-not-found"], memberKc);
      helm(env, ["uninstall", CP_RELEASE, "-n", SYSTEM_NAMESPACE, "--ignore-not-found"], env.hostKubeconfig);
      k(env.hostKubeconfig, ["delete", "secret", `nats-member-${MEMBER}`, "-n", SYSTEM_NAMESPACE, "--ignore-not-found"]);
      k(env.hostKubeconfig, ["label", "membercluster", MEMBER, `${TARGET_LABEL}-`]);
      k(env.hostKubeconfig, ["label", "namespace", SYSTEM_NAMESPACE, "pod-security.kubernetes.io/enforce-"]);
      k(memberKc, ["label", "namespace", SYSTEM_NAMESPACE, "pod-security.kubernetes.io/enforce-"]);
      // A later agent on this member must Join afresh, not restore this test's credentials.
      k(memberKc, ["delete", "secret", "sovereign-agent-credentials", "-n", SYSTEM_NAMESPACE, "--ignore-not-found"]);
      k(memberKc, ["delete", "namespace", WORKLOAD_NS, "--ignore-not-found", "--wait=false"]);
      // The SovereignWorkload's finalizer needs a control plane; the federation's own is back now.
      await federationControlPlaneBack(restartControlPlane);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("helm upgrade to this chart updates the CRDs the previous release installed (and adopted from kubectl)", () => {
    assert.equal(oldCrdHadCountries, false, "the previous chart's CRD lacked status.countries (the control)");
    const crd = getJson<{ metadata: { annotations: Record<string, string>; labels: Record<string, string> }; spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } } }> } }>(env, env.hostKubeconfig, ["crd", "sovereignworkloads.sovereignty.eu"])!;
    assert.ok("countries" in crd.spec.versions[0]!.schema.openAPIV3Schema.properties.status.properties, "status.countries is served after the upgrade");
    assert.equal(crd.metadata.annotations["meta.helm.sh/release-name"], CP_RELEASE);
    assert.equal(crd.metadata.annotations["helm.sh/resource-policy"], "keep");
  });

  it("the charts' pods are admitted in namespaces that enforce the restricted Pod Security Standard, where a privileged pod is refused", async () => {
    for (const [kubeconfig, instance] of [[env.hostKubeconfig, CP_RELEASE], [memberKc, AGENT_RELEASE]] as const) {
      const pods = await waitFor(() => {
        const list = getJson<{ items: Array<{ metadata: { name: string } }> }>(env, kubeconfig, ["pods", "-n", SYSTEM_NAMESPACE, "-l", `app.kubernetes.io/instance=${instance}`]);
        return list && list.items.length > 0 ? list.items : undefined;
      }, { what: `a pod of release ${instance}`, timeoutMs: 60_000, intervalMs: 500 });
      assert.ok(pods.length >= 1);
      const r = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["create", "-n", SYSTEM_NAMESPACE, "-f", "-"], input: privilegedPod(`charts-it-privileged-${instance}`) });
      assert.notEqual(r.status, 0, "the positive control: a privileged pod is refused in the same namespace");
      assert.match(r.stderr, /violates PodSecurity "restricted/);
    }
  });

  it("the agent joined with the chart's token and stored its credentials and the guard's facts where its Role allows", () => {
    const creds = secretData(env, memberKc, SYSTEM_NAMESPACE, "sovereign-agent-credentials")!;
    assert.equal(creds.cluster, MEMBER);
    const facts = getJson<{ data: Record<string, string> }>(env, memberKc, ["configmap", "sovereign-residency-facts", "-n", SYSTEM_NAMESPACE]);
    assert.equal(facts?.data.country, "FR");
    assert.deepEqual(forbiddenLines(agent!.output()), [], "the agent met no 403");
  });

  it("a MemberCluster and a SovereignWorkload on the host give a Deployment and Running pods on the member and status back on the host", async () => {
    kc(["label", "--overwrite", "membercluster", MEMBER, `${TARGET_LABEL}=install`], env.hostKubeconfig);
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
        residency: { allowedCountries: ["FR"], clusterSelector: { matchLabels: { [TARGET_LABEL]: "install" } } },
        placement: { mode: "Divided" },
        template: { metadata: { labels: { app: WORKLOAD } }, spec: { containers: [{ name: "app", image: "registry.example.eu/app:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    }));
    const swlUid = (getJson<{ metadata: { uid: string } }>(env, env.hostKubeconfig, ["swl", WORKLOAD, "-n", WORKLOAD_NS]))!.metadata.uid;
    const running = await waitFor(() => {
      const pods = getJson<{ items: Array<{ status: { phase: string } }> }>(env, memberKc, ["pods", "-A", "-l", `sovereignty.eu/workload-uid=${swlUid}`]);
      const n = pods?.items.filter((p) => p.status.phase === "Running").length ?? 0;
      return n === 2 ? n : undefined;
    }, { what: `2 Running pods of ${WORKLOAD} on ${MEMBER}`, timeoutMs: 90_000, intervalMs: 500 })
      .catch((err: unknown) => { throw new Error(`no pods: agent log ${agent!.output().slice(-2000)}\ncontrol plane log ${cp!.output().slice(-2000)}`, { cause: err }); });
    assert.equal(running, 2);
    const deployments = getJson<{ items: Array<{ metadata: { labels: Record<string, string> } }> }>(env, memberKc, ["deployments", "-A", "-l", `sovereignty.eu/workload-uid=${swlUid}`]);
    assert.equal(deployments?.items.length, 1, "one Deployment for the workload on the member");
    const st = await waitFor(() => {
      const swl = getJson<{ status?: { readyReplicas?: number; placements?: Array<{ cluster: string; replicas: number }> } }>(env, env.hostKubeconfig, ["swl", WORKLOAD, "-n", WORKLOAD_NS]);
      return swl?.status?.readyReplicas === 2 ? swl.status : undefined;
    }, { what: `${WORKLOAD} status readyReplicas 2 on the host`, timeoutMs: 60_000, intervalMs: 500 });
    assert.deepEqual(st.placements?.map((p) => [p.cluster, p.replicas]), [[MEMBER, 2]]);
    assert.deepEqual(forbiddenLines(cp!.output()), [], "the control plane met no 403");
    assert.deepEqual(forbiddenLines(agent!.output()), [], "the agent met no 403");
  });

  it("the member chart's admission policy refuses a pod whose residency this member does not meet, and admits a compliant one", () => {
    const pod = (name: string, countries: string) => JSON.stringify({
      apiVersion: "v1", kind: "Pod",
      metadata: {
        name, namespace: WORKLOAD_NS, labels: { "sovereignty.eu/workload-uid": `charts-it-${name}` },
        // Every requirement annotation, as the guard demands of a labelled pod.
        annotations: {
          "residency.sovereignty.eu/allowed-countries": countries, "residency.sovereignty.eu/allowed-jurisdictions": "",
          "residency.sovereignty.eu/required-certifications": "", "residency.sovereignty.eu/forbid-extraterritorial-exposure": "false",
        },
      },
      // The agent created the namespace with Pod Security enforce: restricted.
      spec: { containers: [{ name: "c", image: "registry.example.eu/x:1", securityContext: restrictedSecurityContext() }] },
    });
    const refused = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: memberKc, args: ["create", "-f", "-"], input: pod("charts-it-de-only", "DE") });
    assert.notEqual(refused.status, 0, "a DE-only pod on the FR member is refused");
    assert.match(refused.stderr, /sovereign-residency-guard/);
    const admitted = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: memberKc, args: ["create", "-f", "-"], input: pod("charts-it-fr-ok", "FR") });
    assert.equal(admitted.status, 0, `the positive control: an FR pod is admitted: ${admitted.stderr}`);
    kc(["delete", "pod", "charts-it-fr-ok", "-n", WORKLOAD_NS, "--wait=false"], memberKc);
  });

  it("the agent's identity may do what it manages and is refused the rest (kubectl auth can-i)", () => {
    const yes: string[][] = [
      ["get", "secret/sovereign-agent-credentials", "-n", SYSTEM_NAMESPACE],
      ["patch", "configmap/sovereign-residency-facts", "-n", SYSTEM_NAMESPACE],
      // RBAC cannot select by label: Deployments anywhere, limited by the agent's own selector and uid preconditions.
      ["delete", "deployments", "-n", "kube-system"],
      ["create", "namespaces"],
      // The namespaces it created are watched (by label), so a deleted one is recreated.
      ["watch", "namespaces"],
      ["list", "pods", "-A"],
    ];
    const no: string[][] = [
      ["get", "secrets", "-n", "default"],
      ["get", "secrets", "-n", "kube-system"],
      ["get", `secret/${AGENT_RELEASE}-member-agent-tls`, "-n", SYSTEM_NAMESPACE],
      ["list", "secrets", "-n", SYSTEM_NAMESPACE],
      ["patch", "configmap/kube-root-ca.crt", "-n", SYSTEM_NAMESPACE],
      ["get", "configmaps", "-n", "default"],
      ["create", "pods", "-n", WORKLOAD_NS],
      ["delete", "pods", "-n", WORKLOAD_NS],
      ["update", "replicasets", "-n", WORKLOAD_NS],
      ["delete", "namespaces"],
      ["update", "namespaces"],
      ["update", "validatingadmissionpolicies"],
      ["delete", "validatingadmissionpolicybindings"],
      ["create", "clusterrolebindings"],
      ["patch", "nodes"],
      ["update", "deployments/scale", "-n", WORKLOAD_NS],
    ];
    for (const a of yes) assert.equal(canI(env, agentKubeconfig.kubectl, a), true, `agent may ${a.join(" ")}`);
    for (const a of no) assert.equal(canI(env, agentKubeconfig.kubectl, a), false, `agent may not ${a.join(" ")}`);
  });

  it("real requests of the agent's identity outside what it manages are Forbidden, and its own Secret is readable", () => {
    const as = (args: string[], input?: string) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: agentKubeconfig.kubectl, args, ...(input ? { input } : {}) });
    const own = as(["get", "secret", "sovereign-agent-credentials", "-n", SYSTEM_NAMESPACE, "-o", "name"]);
    assert.equal(own.status, 0, `the positive control: ${own.stderr}`);
    for (const args of [
      ["get", "secrets", "-n", "default"],
      ["get", "secret", `${AGENT_RELEASE}-member-agent-join`, "-n", SYSTEM_NAMESPACE],
      ["delete", "namespace", WORKLOAD_NS, "--dry-run=server"],
      ["delete", "validatingadmissionpolicy", "sovereign-residency-guard", "--dry-run=server"],
      ["label", "node", "--all", "x=y", "--dry-run=server"],
    ]) {
      const r = as(args);
      assert.notEqual(r.status, 0, `${args.join(" ")} was allowed`);
      assert.match(r.stderr, /forbidden/i, args.join(" "));
    }
    const pod = as(["create", "-n", WORKLOAD_NS, "-f", "-", "--dry-run=server"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }] } }));
    assert.match(pod.stderr, /forbidden/i, "creating a pod directly");
  });

  it("the control plane's identity has no namespace creation, Secrets only in its namespace, Leases by name, and no spec writes", () => {
    const yes: string[][] = [
      ["get", "secrets", "-n", SYSTEM_NAMESPACE],
      ["update", "secrets", "-n", SYSTEM_NAMESPACE],
      // The audit ledger's signing key, made at the first start (federation/ledger-keys.ts).
      ["create", "secrets", "-n", SYSTEM_NAMESPACE],
      ["update", "lease/sovereign-control-plane", "-n", SYSTEM_NAMESPACE],
      ["patch", "sovereignworkloads.sovereignty.eu/status", "-n", WORKLOAD_NS],
      ["patch", "memberclusters.sovereignty.eu/status"],
      ["create", "events", "-n", WORKLOAD_NS],
    ];
    const no: string[][] = [
      ["create", "namespaces"],
      ["get", "secrets", "-n", "default"],
      ["list", "secrets", "-n", SYSTEM_NAMESPACE],
      // Nothing deletes a Secret: used tokens are evidence, old ledger keys verify old records.
      ["delete", "secrets", "-n", SYSTEM_NAMESPACE],
      ["update", "lease/kube-controller-manager", "-n", "kube-system"],
      ["update", "lease/other", "-n", SYSTEM_NAMESPACE],
      ["update", "sovereignworkloads.sovereignty.eu", "-n", WORKLOAD_NS],
      ["delete", "memberclusters.sovereignty.eu"],
      ["create", "residencypolicies.sovereignty.eu"],
      ["patch", "residencypolicies.sovereignty.eu"],
      ["create", "pods", "-n", WORKLOAD_NS],
      ["get", "namespace/default"],
    ];
    for (const a of yes) assert.equal(canI(env, cpKubeconfig.kubectl, a), true, `control plane may ${a.join(" ")}`);
    for (const a of no) assert.equal(canI(env, cpKubeconfig.kubectl, a), false, `control plane may not ${a.join(" ")}`);
  });

  it("helm upgrade with a changed value changes what the charts run and grant", () => {
    helmOk(env, ["upgrade", CP_RELEASE, CHARTS.controlPlane, "-n", SYSTEM_NAMESPACE, "--reuse-values", "--set", "heartbeat.misses=7", "--set", "leaderElection.id=sovereign-cp-2"], env.hostKubeconfig);
    const d = getJson<{ spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }>(env, env.hostKubeconfig, ["deployment", "sovereign-control-plane", "-n", SYSTEM_NAMESPACE])!;
    assert.ok(d.spec.template.spec.containers[0]!.args.includes("--heartbeat-misses=7"));
    assert.ok(d.spec.template.spec.containers[0]!.args.includes("--leader-election-id=sovereign-cp-2"));
    assert.equal(canI(env, cpKubeconfig.kubectl, ["update", "lease/sovereign-cp-2", "-n", SYSTEM_NAMESPACE]), true);
    assert.equal(canI(env, cpKubeconfig.kubectl, ["update", "lease/sovereign-control-plane", "-n", SYSTEM_NAMESPACE]), false, "the old Lease name is no longer granted");
    helmOk(env, ["upgrade", CP_RELEASE, CHARTS.controlPlane, "-n", SYSTEM_NAMESPACE, "--reuse-values", "--set", "leaderElection.id=sovereign-control-plane"], env.hostKubeconfig);

    helmOk(env, ["upgrade", AGENT_RELEASE, CHARTS.agent, "-n", SYSTEM_NAMESPACE, "--reuse-values", "--set", "guard.enabled=false", "--set", "logLevel=debug"], memberKc);
    const a = getJson<{ spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }>(env, memberKc, ["deployment", `${AGENT_RELEASE}-member-agent`, "-n", SYSTEM_NAMESPACE])!;
    assert.ok(a.spec.template.spec.containers[0]!.args.includes("--log-level=debug"));
    assert.equal(getJson(env, memberKc, ["validatingadmissionpolicy", "sovereign-residency-guard"]), undefined, "guard.enabled=false removed the policy");
    helmOk(env, ["upgrade", AGENT_RELEASE, CHARTS.agent, "-n", SYSTEM_NAMESPACE, "--reuse-values", "--set", "guard.enabled=true"], memberKc);
    assert.ok(getJson(env, memberKc, ["validatingadmissionpolicy", "sovereign-residency-guard"]), "guard.enabled=true brought it back");
  });

  it("deleting the workload under the charts' RBAC removes its Deployment from the member and its finalizer on the host", async () => {
    kc(["delete", "swl", WORKLOAD, "-n", WORKLOAD_NS, "--wait=false"], env.hostKubeconfig);
    await waitFor(() => getJson(env, env.hostKubeconfig, ["swl", WORKLOAD, "-n", WORKLOAD_NS]) === undefined, { what: `${WORKLOAD} gone from the host`, timeoutMs: 90_000, intervalMs: 500 });
    await waitFor(() => {
      const list = getJson<{ items: unknown[] }>(env, memberKc, ["deployments", "-n", WORKLOAD_NS]);
      return list?.items.length === 0;
    }, { what: `the Deployment gone from ${MEMBER}`, timeoutMs: 60_000, intervalMs: 500 });
    assert.deepEqual(forbiddenLines(cp!.output()), [], "the control plane met no 403");
  });

  it("helm uninstall removes what the charts made and keeps the CRDs and their objects", async () => {
    await agent!.stop();
    await cp!.stop();
    helmOk(env, ["uninstall", AGENT_RELEASE, "-n", SYSTEM_NAMESPACE, "--wait"], memberKc);
    assert.equal(getJson(env, memberKc, ["validatingadmissionpolicy", "sovereign-residency-guard"]), undefined, "the guard went with the release");
    assert.equal(getJson(env, memberKc, ["clusterrole", `${AGENT_RELEASE}-member-agent`]), undefined);
    assert.ok(getJson(env, memberKc, ["secret", "sovereign-agent-credentials", "-n", SYSTEM_NAMESPACE]), "the agent's own Secret (not Helm's) stays for a reinstall");
    helmOk(env, ["uninstall", CP_RELEASE, "-n", SYSTEM_NAMESPACE, "--wait"], env.hostKubeconfig);
    assert.equal(getJson(env, env.hostKubeconfig, ["clusterrole", "sovereign-control-plane"]), undefined);
    assert.equal(getJson(env, env.hostKubeconfig, ["serviceaccount", CP_SA, "-n", SYSTEM_NAMESPACE]), undefined);
    for (const crd of ["memberclusters", "residencypolicies", "sovereignworkloads"]) {
      assert.ok(getJson(env, env.hostKubeconfig, ["crd", `${crd}.sovereignty.eu`]), `${crd} CRD kept (crds.keep)`);
    }
    assert.ok(getJson(env, env.hostKubeconfig, ["membercluster", MEMBER]), "and the MemberClusters with them");
    // A new install adopts the kept CRDs without --take-ownership (they carry this release's annotations).
    helmOk(env, ["install", CP_RELEASE, CHARTS.controlPlane, "-n", SYSTEM_NAMESPACE, "--set", `nats.url=${env.natsUrl}`, "--set", "query.apiService.create=false", "--set", "userRoles.create=false"], env.hostKubeconfig);
  });
});

/** `kubectl sovereign token create` as the host's admin; the token is its standard output. */
function kubectlSovereignToken(env: FederationEnv): string {
  const r = spawnSync(path.join(repoRoot, "bin", "kubectl-sovereign"), ["token", "create", MEMBER, "--ttl", "10m", "--kubeconfig", env.hostKubeconfig], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl sovereign token create: ${r.stderr}`);
  return r.stdout.trim();
}
