import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { agentComponentName, CONTROL_PLANE_COMPONENT, SYSTEM_NAMESPACE } from "../../../hack/lib/federation/index.ts";
import { federationStateDir, readFederationEnv, repoRoot, type FederationEnv } from "../env.ts";
import { kubectl } from "../kubectl.ts";

/**
 * The control plane and agents `hack/federation up` runs are the charts' identities, not
 * the clusters' admin: the kubeconfig on each running process's command line reads a
 * token of the chart's ServiceAccount, and that identity is held to the chart's rules.
 */

interface Recorded {
  component: string;
  pid: number;
}

/** The kubeconfig the running process was started with, from the kernel, not from our records. */
function runningKubeconfig(stateDir: string, component: string): string {
  const state = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: Recorded[] };
  const proc = state.processes.find((p) => p.component === component);
  assert.ok(proc, `${component} is recorded`);
  const argv = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").split("\0");
  const i = argv.indexOf("--kubeconfig");
  assert.ok(i > 0, `${component} runs with --kubeconfig: ${argv.join(" ")}`);
  return argv[i + 1]!;
}

/** The token a kubeconfig of client-node's tokenFile provider reads. */
function tokenOf(kubeconfig: string): string {
  const kc = JSON.parse(readFileSync(kubeconfig, "utf8")) as { users: Array<{ user: { "auth-provider"?: { name: string; config: { tokenFile: string } } } }> };
  const provider = kc.users[0]!.user["auth-provider"];
  assert.equal(provider?.name, "tokenFile", `${kubeconfig} authenticates with a token file`);
  return readFileSync(provider.config.tokenFile, "utf8").trim();
}

/** The recorded federation's shape and ports, whatever FEDERATION_BASE_PORT says. */
function upEnv(): NodeJS.ProcessEnv {
  const { FEDERATION_BASE_PORT: _port, ...env } = process.env;
  return env;
}

describe("the local federation's control plane and agents run under the charts' ServiceAccounts", function () {
  this.timeout(120_000);
  let env: FederationEnv;
  let stateDir: string;
  let agentMember: string;
  let cpToken: string;
  let agentToken: string;
  /** kubectl as the identity of `token`, on the cluster of `kubeconfig` (admin's file for the server and CA only). */
  let as: (kubeconfig: string, token: string, args: string[]) => { status: number; stdout: string; stderr: string };

  before(function () {
    env = readFederationEnv();
    stateDir = federationStateDir();
    const state = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { agents?: string[]; rbac?: string; controlPlane?: boolean };
    if (state.rbac !== "charts" || state.controlPlane === false || !state.agents?.length) this.skip();
    agentMember = state.agents[0]!;
    cpToken = tokenOf(runningKubeconfig(stateDir, CONTROL_PLANE_COMPONENT));
    agentToken = tokenOf(runningKubeconfig(stateDir, agentComponentName(agentMember)));
    as = (kubeconfig, token, args) => {
      const r = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["--token", token, ...args] });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
  });

  it("the running control plane authenticates as the control-plane chart's ServiceAccount, and each agent as the member-agent chart's", () => {
    const whoami = (kubeconfig: string, token: string) => (JSON.parse(as(kubeconfig, token, ["auth", "whoami", "-o", "json"]).stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username;
    assert.equal(whoami(env.hostKubeconfig, cpToken), `system:serviceaccount:${SYSTEM_NAMESPACE}:federation-control-plane`);
    assert.equal(whoami(env.memberKubeconfigs[agentMember]!, agentToken), `system:serviceaccount:${SYSTEM_NAMESPACE}:federation-member-agent`);
    // The control: the admin's own kubeconfig is somebody else.
    const admin = JSON.parse(kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["auth", "whoami", "-o", "json"] }).stdout) as { status: { userInfo: { username: string } } };
    assert.notEqual(admin.status.userInfo.username, `system:serviceaccount:${SYSTEM_NAMESPACE}:federation-control-plane`);
  });

  it("the ServiceAccounts belong to Helm releases of the charts, whose Deployments run no pod here", () => {
    for (const [kubeconfig, release, sa] of [
      [env.hostKubeconfig, "federation-control-plane", "federation-control-plane"],
      [env.memberKubeconfigs[agentMember]!, "federation-member-agent", "federation-member-agent"],
    ] as const) {
      const got = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["get", "serviceaccount", sa, "-n", SYSTEM_NAMESPACE, "-o", "json"] });
      assert.equal(got.status, 0, got.stderr);
      const meta = (JSON.parse(got.stdout) as { metadata: { annotations: Record<string, string> } }).metadata;
      assert.equal(meta.annotations["meta.helm.sh/release-name"], release);
      const d = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["get", "deployment", release, "-n", SYSTEM_NAMESPACE, "-o", "jsonpath={.spec.replicas}"] });
      assert.equal(d.stdout, "0", `${release}'s Deployment has 0 replicas`);
    }
  });

  it("the control plane's identity reads SovereignWorkloads, MemberClusters and its Lease but is refused namespaces, pods and Secrets elsewhere", () => {
    for (const args of [["get", "sovereignworkloads", "-A"], ["get", "memberclusters"], ["get", "lease", "sovereign-control-plane", "-n", SYSTEM_NAMESPACE]]) {
      const r = as(env.hostKubeconfig, cpToken, args);
      assert.equal(r.status, 0, `the positive control, ${args.join(" ")}: ${r.stderr}`);
    }
    for (const args of [
      ["get", "secrets", "-n", "default"],
      ["get", "pods", "-A"],
      ["create", "namespace", "identity-it", "--dry-run=server"],
      ["delete", "membercluster", "identity-it", "--dry-run=server"],
    ]) {
      const r = as(env.hostKubeconfig, cpToken, args);
      assert.notEqual(r.status, 0, `${args.join(" ")} was allowed`);
      assert.match(r.stderr, /forbidden/i, args.join(" "));
    }
  });

  it("an agent's identity lists Deployments and pods but is refused Secrets outside its namespace, pod writes and admission policies", () => {
    const member = env.memberKubeconfigs[agentMember]!;
    for (const args of [["get", "deployments", "-A"], ["get", "pods", "-A"], ["get", "configmap", "sovereign-residency-facts", "-n", SYSTEM_NAMESPACE]]) {
      const r = as(member, agentToken, args);
      assert.equal(r.status, 0, `the positive control, ${args.join(" ")}: ${r.stderr}`);
    }
    for (const args of [
      ["get", "secrets", "-n", "default"],
      ["get", "secrets", "-n", "kube-system"],
      ["delete", "pod", "identity-it", "-n", "default", "--dry-run=server"],
      ["delete", "validatingadmissionpolicy", "sovereign-residency-guard", "--dry-run=server"],
      ["delete", "namespace", "default", "--dry-run=server"],
    ]) {
      const r = as(member, agentToken, args);
      assert.notEqual(r.status, 0, `${args.join(" ")} was allowed`);
      assert.match(r.stderr, /forbidden/i, args.join(" "));
    }
  });

  it("the control plane's identity may get and update Secrets of its namespace, as Join does, create its ledger key, and neither delete, list nor watch them (kubectl auth can-i)", () => {
    const canI = (args: string[]) => {
      const r = as(env.hostKubeconfig, cpToken, ["auth", "can-i", ...args]);
      assert.match(r.stdout.trim(), /^(yes|no)$/, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim() === "yes";
    };
    for (const verb of ["get", "update", "create"]) assert.equal(canI([verb, "secrets", "-n", SYSTEM_NAMESPACE]), true, `the positive control: ${verb} secrets`);
    for (const verb of ["delete", "list", "watch", "patch", "deletecollection"]) assert.equal(canI([verb, "secrets", "-n", SYSTEM_NAMESPACE]), false, `${verb} secrets was granted`);
  });

  it("an agent's own Deployments and namespaces stay out of kube-* and sovereign-system, and its Deployments run no privileged, host or hostPath pod (sovereign-agent-limits)", () => {
    const member = env.memberKubeconfigs[agentMember]!;
    const deployment = (namespace: string, spec: Record<string, unknown> = {}) => JSON.stringify({
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "identity-it", namespace },
      spec: {
        replicas: 0, selector: { matchLabels: { app: "identity-it" } },
        template: { metadata: { labels: { app: "identity-it" } }, spec: { containers: [{ name: "c", image: "registry.example.eu/app:1" }], ...spec } },
      },
    });
    const create = (body: string) => {
      const r = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: member, args: ["--token", agentToken, "create", "--dry-run=server", "-f", "-"], input: body });
      return { status: r.status ?? -1, stderr: r.stderr };
    };
    // RBAC cannot exclude namespaces from a cluster-wide grant: can-i still says yes. The policy is what refuses.
    assert.equal(as(member, agentToken, ["auth", "can-i", "create", "deployments", "-n", "kube-system"]).stdout.trim(), "yes");
    // Positive control: a plain Deployment in an ordinary namespace (the policy may take a moment to be active after install).
    const ok = create(deployment("default"));
    assert.equal(ok.status, 0, `the positive control, a plain Deployment in default: ${ok.stderr}`);
    for (const [what, body, reason] of [
      ["a Deployment in kube-system", deployment("kube-system"), /may not write in namespace kube-system/],
      ["a Deployment in sovereign-system", deployment(SYSTEM_NAMESPACE), /may not write in namespace sovereign-system/],
      ["a privileged Deployment", deployment("default", { containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] }), /may not run privileged containers/],
      ["a hostNetwork Deployment", deployment("default", { hostNetwork: true }), /host namespaces/],
      ["a hostPath Deployment", deployment("default", { volumes: [{ name: "root", hostPath: { path: "/" } }] }), /hostPath/],
      ["a SYS_ADMIN Deployment", deployment("default", { containers: [{ name: "c", image: "x", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] }), /no capability but NET_BIND_SERVICE/],
      ["a namespace kube-identity-it", JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-identity-it" } }), /may not write in namespace kube-identity-it/],
    ] as const) {
      const r = create(body);
      assert.notEqual(r.status, 0, `${what} was admitted`);
      assert.match(r.stderr, /sovereign-agent-limits/, what);
      assert.match(r.stderr, reason, what);
    }
    const ns = create(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "identity-it-ok" } }));
    assert.equal(ns.status, 0, `the positive control, an ordinary namespace: ${ns.stderr}`);
    // The admin is not the agent: the same privileged Deployment passes the policy (the member's own admission decides).
    const admin = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: member, args: ["create", "--dry-run=server", "-f", "-"], input: deployment("default", { hostNetwork: true }) });
    assert.doesNotMatch(admin.stderr, /sovereign-agent-limits/);
  });

  it("a second up keeps the releases' revisions, the tokens and every process; a changed chart record is upgraded", () => {
    const revisions = () => [
      ["--kubeconfig", env.hostKubeconfig, "federation-control-plane"],
      ["--kubeconfig", env.memberKubeconfigs[agentMember]!, "federation-member-agent"],
    ].map(([flag, kc, release]) => {
      const r = spawnSync(env.tools.HELM_BIN!, [flag!, kc!, "status", release!, "-n", SYSTEM_NAMESPACE, "-o", "json"], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as { version: number }).version;
    });
    const pids = () => (JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: Recorded[] }).processes.map((p) => `${p.component}:${p.pid}`);
    const before = { revisions: revisions(), pids: pids() };
    const r = spawnSync(path.join(repoRoot, "hack", "federation"), ["up", "--state-dir", stateDir], { encoding: "utf8", timeout: 110_000, env: upEnv() });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /federation ready/);
    assert.doesNotMatch(r.stdout, /helm upgrade|minting a token|starting /, "nothing installed, minted or started");
    assert.deepEqual(revisions(), before.revisions);
    assert.deepEqual(pids(), before.pids);
    assert.equal(tokenOf(runningKubeconfig(stateDir, CONTROL_PLANE_COMPONENT)), cpToken);

    // The positive control: with the record of what the agent's release was installed from gone, up upgrades it.
    rmSync(path.join(stateDir, "charts", `federation-member-agent@${agentMember}.sha256`));
    const again = spawnSync(path.join(repoRoot, "hack", "federation"), ["up", "--state-dir", stateDir], { encoding: "utf8", timeout: 110_000, env: upEnv() });
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`${agentMember}: helm upgrade --install federation-member-agent`));
    assert.deepEqual(revisions(), [before.revisions[0], before.revisions[1]! + 1]);
    assert.deepEqual(pids(), before.pids, "an upgraded release restarts no process");
  });
});
