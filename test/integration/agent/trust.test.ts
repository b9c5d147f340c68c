import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { JetStreamManager } from "@nats-io/jetstream";
import { parseGuardManifests } from "../../../operator/src/agent/index.ts";
import { POD_SECURITY_LABELS } from "../../../operator/src/api/index.ts";
import { codecs, ensureMemberStreams, ensureSharedStreams, streams, subjects } from "../../../operator/src/federation/index.ts";
import type { FederationClient, PlacementIntent } from "../../../operator/src/federation/index.ts";
import { KubeMemberApi } from "../../../operator/src/kube/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { connectAs, ensureMemberClusters, uid } from "../federation/helpers.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { intentFor, lastStatus, runningPods, startAgent, TEST_NAMESPACE, workloadPods } from "./helpers.ts";
import type { RunningAgent } from "./helpers.ts";

const GUARD_FILE = `${repoRoot}/charts/member-agent/files/residency-guard.yaml`;
const CLUSTER = "fr";

/**
 * The agent's own checks, against the real member API server and nats-server: an intent
 * published straight to NATS (past every check of the host) with a pod the member must
 * not run is refused and reported; the namespaces it creates enforce Pod Security; the
 * residency guard's objects, edited or deleted on the member, come back.
 */
describe("member agent trust boundaries (real member API server, real nats-server)", function () {
  this.timeout(120_000);
  let env: FederationEnv;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  let member: KubeMemberApi;
  let agent: RunningAgent | undefined;
  const run = randomBytes(3).toString("hex");
  const kc = (args: string[]) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args });

  before(async function () {
    this.timeout(180_000);
    env = readFederationEnv();
    // Declared on the host: the control plane removes the streams of a member with no MemberCluster.
    ensureMemberClusters(env);
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    await ensureSharedStreams(jsm, { streams: { replicas: env.natsStreamReplicas } });
    await ensureMemberStreams(jsm, CLUSTER, { streams: { replicas: env.natsStreamReplicas } });
    await jsm.streams.purge(streams.intents(CLUSTER));
    member = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs[CLUSTER]! } });
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args: ["apply", "--server-side", "--field-manager=agent-test", "--force-conflicts", "-f", GUARD_FILE] });
    agent = await startAgent(env, CLUSTER, { guardObjects: parseGuardManifests({ text: readFileSync(GUARD_FILE, "utf8"), namespace: "sovereign-system" }) });
  });

  after(async () => {
    await agent?.stop();
    await cp?.drain();
  });

  const intent = (p: { name: string; uid: string; namespace?: string; spec?: Record<string, unknown>; container?: Record<string, unknown>; podSecurity?: PlacementIntent["podSecurity"] }): PlacementIntent => {
    const base = intentFor({ cluster: CLUSTER, uid: p.uid, name: p.name, replicas: 1 });
    return {
      ...base,
      workload: { ...base.workload!, namespace: p.namespace ?? TEST_NAMESPACE },
      podTemplate: { metadata: { labels: { app: p.name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1", securityContext: restrictedSecurityContext(), ...p.container }], ...p.spec } },
      podSecurity: p.podSecurity ?? { level: "restricted", allowedServiceAccounts: [] },
    };
  };
  const refusedStatus = (w: string, field: RegExp) => waitFor(async () => {
    const s = await lastStatus(jsm, CLUSTER, w);
    return s && field.test(s.message) ? s : undefined;
  }, { what: `a status of ${w} naming ${field}`, timeoutMs: 30_000 });
  const deploymentOf = (namespace: string, name: string) => member.getDeployment(namespace, name);

  describe("an intent published straight to NATS, past the host's checks", () => {
    const cases: { what: string; p: Omit<Parameters<typeof intent>[0], "uid" | "name">; field: RegExp }[] = [
      { what: "a privileged container", p: { container: { securityContext: { privileged: true } } }, field: /intent podTemplate\.spec\.containers\[0\]\.securityContext\.privileged: a sovereign workload may not run privileged containers/ },
      { what: "a hostPath volume", p: { spec: { volumes: [{ name: "root", hostPath: { path: "/" } }] } }, field: /intent podTemplate\.spec\.volumes\[0\]\.hostPath/ },
      { what: "hostNetwork", p: { spec: { hostNetwork: true } }, field: /intent podTemplate\.spec\.hostNetwork/ },
      { what: "an added capability", p: { container: { securityContext: { ...restrictedSecurityContext(), capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } } } }, field: /capabilities\.add\[0\]: "SYS_ADMIN"/ },
      { what: "a ServiceAccount its podSecurity does not allow", p: { spec: { serviceAccountName: "cluster-admin" } }, field: /intent podTemplate\.spec\.serviceAccountName: "cluster-admin"/ },
      { what: "kube-system", p: { namespace: "kube-system" }, field: /intent workload\.namespace: "kube-system"/ },
      { what: "sovereign-system, where the member's NATS seed lives", p: { namespace: "sovereign-system" }, field: /intent workload\.namespace: "sovereign-system"/ },
    ];
    for (const c of cases) {
      it(`is refused for ${c.what}: the status says why and no Deployment appears (a compliant intent published after it is applied)`, async () => {
        const bad = uid();
        const badIntent = intent({ ...c.p, uid: bad, name: `bad-${bad.slice(0, 8)}` });
        await cp.publish.intent(badIntent);
        const s = await refusedStatus(bad, c.field);
        assert.equal(s.readyReplicas, 0);
        assert.match(s.message, /^refused by the member: /);
        // Positive control: an intent published after the refused one is applied, so the agent has read past it.
        const ok = uid();
        const okName = `ok-${ok.slice(0, 8)}`;
        await cp.publish.intent(intent({ uid: ok, name: okName }));
        await runningPods(member, ok, 1);
        assert.ok(await deploymentOf(TEST_NAMESPACE, okName), "the compliant intent's Deployment");
        assert.equal(await deploymentOf(badIntent.workload!.namespace, badIntent.workload!.name), undefined, "no Deployment of the refused intent");
        assert.deepEqual(await workloadPods(member, bad), []);
        await cp.publish.intent({ ...intent({ uid: ok, name: okName }), replicas: 0, decidedAt: new Date() });
      });
    }
  });

  it("creates a workload's namespace with Pod Security enforce restricted, or baseline when its podSecurity says so; a namespace that exists is not relabelled", async () => {
    const cases = [
      { namespace: `trust-r-${run}`, podSecurity: { level: "restricted", allowedServiceAccounts: [] }, want: "restricted" },
      { namespace: `trust-b-${run}`, podSecurity: { level: "baseline", allowedServiceAccounts: [] }, want: "baseline" },
      { namespace: `trust-x-${run}`, podSecurity: { level: "privileged", allowedServiceAccounts: [] }, want: "restricted" },
    ];
    const existing = `trust-e-${run}`;
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args: ["create", "namespace", existing] });
    const uids: string[] = [];
    for (const c of [...cases, { namespace: existing, podSecurity: { level: "restricted", allowedServiceAccounts: [] }, want: undefined }]) {
      const w = uid();
      uids.push(w);
      await cp.publish.intent(intent({ uid: w, name: `ns-${w.slice(0, 8)}`, namespace: c.namespace, podSecurity: c.podSecurity }));
      await runningPods(member, w, 1);
      const labels = (JSON.parse(kc(["get", "namespace", c.namespace, "-o", "json"]).stdout) as { metadata: { labels?: Record<string, string> } }).metadata.labels ?? {};
      assert.equal(labels[POD_SECURITY_LABELS.enforce], c.want, `${c.namespace}: ${JSON.stringify(labels)}`);
    }
    // The member enforces it: a pod the restricted standard refuses is refused there (an admin's, not the agent's).
    const root = kc(["run", "root-probe", "-n", cases[0]!.namespace, "--image=registry.example/app:1", "--dry-run=server"]);
    assert.notEqual(root.status, 0, "a pod without the restricted securityContext was admitted");
    assert.match(root.stderr, /violates PodSecurity "restricted/);
    const baseline = kc(["run", "root-probe", "-n", cases[1]!.namespace, "--image=registry.example/app:1", "--dry-run=server"]);
    assert.equal(baseline.status, 0, `the positive control: baseline admits it: ${baseline.stderr}`);
    for (const c of [...cases.map((x) => x.namespace), existing]) kc(["delete", "namespace", c, "--wait=false"]);
  });

  describe("the residency guard's objects, edited or deleted on the member", () => {
    before(async () => {
      // The parameter is written once the agent knows the member's facts (from an intent).
      const w = uid();
      await cp.publish.intent(intent({ uid: w, name: `facts-${w.slice(0, 8)}` }));
      await waitFor(() => agent!.agent.guardReady, { what: "the guard's parameter written", timeoutMs: 30_000 });
      await runningPods(member, w, 1);
    });

    const get = (args: string[]) => {
      const r = kc(["get", ...args, "-o", "json"]);
      return r.status === 0 ? (JSON.parse(r.stdout) as { data?: Record<string, string>; spec?: Record<string, unknown> }) : undefined;
    };
    /** Waits (deadline 10 s from the change) until `restored` holds; returns the seconds it took. */
    const restoredWithin10s = async (what: string, restored: () => boolean) => {
      const t0 = performance.now();
      await waitFor(restored, { what: `${what} restored`, timeoutMs: 10_000, intervalMs: 100 });
      return (performance.now() - t0) / 1000;
    };
    const heartbeatCarries = (object: string, change: string) => waitFor(async () => {
      const m = await jsm.direct.getMessage(streams.heartbeats, { last_by_subj: subjects.heartbeat(CLUSTER) });
      const hb = m ? codecs.heartbeat.decode(m.data, m.subject ?? "") : undefined;
      return hb?.guardDrift.find((d) => d.object === object && d.change === change);
    }, { what: `a heartbeat carrying ${change} ${object}`, timeoutMs: 15_000, intervalMs: 250 });
    const PARAM = ["configmap", "sovereign-residency-facts", "-n", "sovereign-system"];

    it("the parameter ConfigMap: an edited country is put back within 10 s, and the heartbeat says so", async () => {
      const before = get(PARAM)!.data!;
      assert.equal(before.country, "FR", "the positive control: the agent wrote the member's facts");
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args: ["patch", ...PARAM, "--type=merge", "-p", JSON.stringify({ data: { country: "US", validCertifications: "HDS,SecNumCloud,C5" } })] });
      assert.equal(get(PARAM)!.data!.country, "US", "the edit took");
      const s = await restoredWithin10s("the edited ConfigMap", () => { const d = get(PARAM)?.data; return d?.country === "FR" && d.validCertifications === before.validCertifications; });
      assert.ok(s < 10, `${s} s`);
      await heartbeatCarries("ConfigMap/sovereign-residency-facts", "edited");
    });

    it("the parameter ConfigMap: deleted, it is recreated within 10 s", async () => {
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args: ["delete", ...PARAM] });
      await restoredWithin10s("the deleted ConfigMap", () => get(PARAM)?.data?.country === "FR");
      await heartbeatCarries("ConfigMap/sovereign-residency-facts", "deleted");
    });

    it("the policy: an edit that turns it off (failurePolicy Ignore, a matchCondition that never matches) is undone within 10 s", async () => {
      const VAP = ["validatingadmissionpolicy", "sovereign-residency-guard"];
      assert.equal(get(VAP)!.spec!.failurePolicy, "Fail");
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args: ["patch", ...VAP, "--type=merge", "-p", JSON.stringify({ spec: { failurePolicy: "Ignore", matchConditions: [{ name: "never", expression: "false" }] } })] });
      await restoredWithin10s("the edited policy", () => { const spec = get(VAP)?.spec; return spec?.failurePolicy === "Fail" && spec.matchConditions === undefined; });
      await heartbeatCarries("ValidatingAdmissionPolicy/sovereign-residency-guard", "edited");
    });

    it("the bindings: deleted, they are recreated within 10 s with the parameter in the agent's namespace", async () => {
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[CLUSTER]!, args: ["delete", "validatingadmissionpolicybinding", "sovereign-residency-guard", "sovereign-residency-guard-unlabelled"] });
      const BINDING = ["validatingadmissionpolicybinding", "sovereign-residency-guard"];
      await restoredWithin10s("the deleted bindings", () => get(BINDING) !== undefined && get(["validatingadmissionpolicybinding", "sovereign-residency-guard-unlabelled"]) !== undefined);
      assert.deepEqual((get(BINDING)!.spec!.paramRef as Record<string, string>), { name: "sovereign-residency-facts", namespace: "sovereign-system", parameterNotFoundAction: "Deny" });
      await heartbeatCarries("ValidatingAdmissionPolicyBinding/sovereign-residency-guard", "deleted");
    });

    it("an untouched guard is not rewritten (the positive control: no restore without a change)", async () => {
      const rv = () => kc(["get", "validatingadmissionpolicy", "sovereign-residency-guard-unlabelled", "-o", "jsonpath={.metadata.resourceVersion}"]).stdout;
      const first = rv();
      // Six of the agent's heartbeats (1 s apart here), so three of its 2 s checks, passed.
      const sequence = async () => {
        const m = await jsm.direct.getMessage(streams.heartbeats, { last_by_subj: subjects.heartbeat(CLUSTER) });
        return m ? codecs.heartbeat.decode(m.data, m.subject ?? "").sequence : 0;
      };
      const from = await sequence();
      await waitFor(async () => (await sequence()) >= from + 6, { what: "six more heartbeats", timeoutMs: 20_000, intervalMs: 250 });
      assert.equal(rv(), first);
    });
  });
});
