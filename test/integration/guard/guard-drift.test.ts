import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { readFederationEnv, repoRoot, type FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";

/**
 * The running agents of the agent members (the processes `hack/federation up` started,
 * under the member chart's ServiceAccount) put their residency guard back when someone on
 * the member edits or deletes it, and the running control plane turns the restore each
 * heartbeat reports into a Warning Event on the MemberCluster and
 * sovereign_guard_drift_total{cluster}.
 */
describe("the residency guard restored by the running agent, the drift shown on the host", function () {
  this.timeout(120_000);
  let env: FederationEnv;
  const run = randomBytes(3).toString("hex");
  const NAMESPACE = `guard-drift-${run}`;
  const WORKLOAD = "guarded";
  const PARAM = ["configmap", "sovereign-residency-facts", "-n", "sovereign-system"];
  /** The agent member the parameter test placed its workload on (it holds the parameter). */
  let member = "";

  before(function () {
    env = readFederationEnv();
    if (env.agents.length === 0) throw new Error("this test needs members running an agent (hack/federation up --members ovh-par-1,...)");
    // The example MemberClusters: the control plane makes each agent's streams and reads its heartbeats.
    const examples = path.join(repoRoot, "crds", "examples");
    host(["apply", "--server-side", "--field-manager=guard-drift-it", "-f", path.join(examples, "00-namespaces.yaml"), "-f", path.join(examples, "10-member-clusters.yaml"), "-f", path.join(examples, "20-policies.yaml")]);
    host(["create", "namespace", NAMESPACE]);
  });

  after(() => {
    if (env) kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found"] });
  });

  const host = (args: string[], input?: string) => kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args, ...(input ? { input } : {}) });
  const onMember = (member: string, args: string[]) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[member]!, args });
  const param = (member: string) => {
    const r = onMember(member, ["get", ...PARAM, "-o", "json"]);
    return r.status === 0 ? (JSON.parse(r.stdout) as { data?: Record<string, string> }).data : undefined;
  };
  const driftEvents = (member: string) => {
    const out = host(["get", "events", "-n", "default", "--field-selector", `involvedObject.kind=MemberCluster,involvedObject.name=${member},reason=GuardDriftRestored`, "-o", "json"]);
    return (JSON.parse(out) as { items: { message: string; type: string }[] }).items;
  };
  const driftTotal = async (member: string) => {
    const text = await (await fetch(env.controlPlaneMetricsUrl)).text();
    const m = new RegExp(`^sovereign_guard_drift_total\\{cluster="${member}"\\} (\\d+)`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  /** Waits (deadline 10 s from the change) until `restored`; returns the seconds it took. */
  const restoredWithin10s = async (what: string, restored: () => boolean) => {
    const t0 = performance.now();
    await waitFor(restored, { what, timeoutMs: 10_000, intervalMs: 100 });
    return (performance.now() - t0) / 1000;
  };

  // First: it gives a member its parameter (the member's facts come with an intent). The
  // binding test below runs on that member: deleting the binding stops, until kube-apiserver
  // restarts, the informer through which that API server reads the parameter
  // (kubernetes/kubernetes#133827, #141015; charts/member-agent/README.md), so the parameter
  // stays as it was at the deletion. Without one there, that member would refuse every
  // sovereign pod for the rest of the run; with it, it keeps these facts (no later test may
  // expect the guard of that member to follow a change of its facts).
  it("an edited guard parameter is restored within 10 s and the host shows the Event", async () => {
    // The parameter holds the member's facts once an intent brought them: a workload on a French member.
    host(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name: WORKLOAD, namespace: NAMESPACE },
      spec: {
        replicas: 1, residency: { allowedCountries: ["FR"] }, placement: { mode: "Divided" }, failover: { enabled: true, tolerationSeconds: 30 },
        template: { metadata: { labels: { app: WORKLOAD } }, spec: { containers: [{ name: "app", image: "registry.example.eu/app:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    }));
    member = await waitFor(() => {
      const w = JSON.parse(host(["get", "sovereignworkload", WORKLOAD, "-n", NAMESPACE, "-o", "json"])) as { status?: { placements?: { cluster: string; replicas: number }[] } };
      return w.status?.placements?.find((p) => p.replicas > 0 && env.agents.includes(p.cluster))?.cluster;
    }, { what: "the workload placed on an agent member", timeoutMs: 60_000, intervalMs: 500 });
    const facts = await waitFor(() => { const d = param(member); return d?.country ? d : undefined; }, { what: `the guard's parameter on ${member}`, timeoutMs: 30_000 });
    const message = "ConfigMap/sovereign-residency-facts was edited";
    const eventsBefore = driftEvents(member).filter((e) => e.message.includes(message)).length;
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[member]!, args: ["patch", ...PARAM, "--type=merge", "-p", JSON.stringify({ data: { country: "US" } })] });
    assert.equal(param(member)?.country, "US", "the edit took");
    const seconds = await restoredWithin10s("the parameter restored", () => param(member)?.country === facts.country);
    console.log(`      parameter restored on ${member} in ${seconds.toFixed(2)} s`);
    await waitFor(() => driftEvents(member).filter((e) => e.message.includes(message)).length > eventsBefore, { what: "the Event of the edited parameter", timeoutMs: 30_000, intervalMs: 500 });
  });

  it("a deleted guard binding is recreated within 10 s; the host shows a Warning Event on the MemberCluster and counts it", async () => {
    const binding = ["validatingadmissionpolicybinding", "sovereign-residency-guard"];
    assert.ok(member, "the parameter test ran first and found the member holding the parameter");
    assert.ok(param(member)?.country, `the guard's parameter is on ${member} before its binding is deleted`);
    assert.equal(onMember(member, ["get", ...binding]).status, 0, "the positive control: the binding is there");
    const totalBefore = await waitFor(() => driftTotal(member), { what: `sovereign_guard_drift_total{cluster="${member}"} (created at 0 for a known member)`, timeoutMs: 30_000 });
    const message = "ValidatingAdmissionPolicyBinding/sovereign-residency-guard was deleted";
    const eventsBefore = driftEvents(member).filter((e) => e.message.includes(message)).length;
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[member]!, args: ["delete", ...binding] });
    const seconds = await restoredWithin10s(`the binding recreated on ${member}`, () => onMember(member, ["get", ...binding]).status === 0);
    console.log(`      binding restored on ${member} in ${seconds.toFixed(2)} s`);
    const event = await waitFor(() => {
      const events = driftEvents(member).filter((e) => e.message.includes(message));
      return events.length > eventsBefore ? events.at(-1) : undefined;
    }, { what: "a GuardDriftRestored Event on the MemberCluster", timeoutMs: 30_000, intervalMs: 500 });
    assert.equal(event.type, "Warning");
    // What the agent cannot put back: kube-apiserver's reading of the parameter (kubernetes#133827).
    assert.match(event.message, /restart the member's kube-apiserver/);
    await waitFor(async () => ((await driftTotal(member)) ?? 0) > totalBefore, { what: "sovereign_guard_drift_total counted it", timeoutMs: 15_000, intervalMs: 500 });
  });

});
