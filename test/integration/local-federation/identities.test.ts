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
