import assert from "node:assert/strict";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";

/**
 * The running agent of an agent member (the process `hack/federation up` started, under the
 * member chart's ServiceAccount) puts its residency guard back when someone on the member
 * edits or deletes it, and the running control plane turns the restore its heartbeat
 * reports into a Warning Event on the MemberCluster and sovereign_guard_drift_total.
 */
describe("the residency guard restored by the running agent, the drift shown on the host", function () {
  this.timeout(120_000);
  let env: FederationEnv;
  let cluster: string;
  const PARAM = ["configmap", "sovereign-residency-facts", "-n", "sovereign-system"];

  before(function () {
    env = readFederationEnv();
    const agent = env.agents[0];
    if (!agent) throw new Error("this test needs a member running an agent (hack/federation up --members ovh-par-1,...)");
    cluster = agent;
  });

  const onMember = (args: string[]) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[cluster]!, args });
  const param = () => {
    const r = onMember(["get", ...PARAM, "-o", "json"]);
    return r.status === 0 ? (JSON.parse(r.stdout) as { data?: Record<string, string> }).data : undefined;
  };
  const driftEvents = () => {
    const out = kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["get", "events", "-n", "default", "--field-selector", `involvedObject.kind=MemberCluster,involvedObject.name=${cluster},reason=GuardDriftRestored`, "-o", "json"] });
    return (JSON.parse(out) as { items: { message: string; type: string }[] }).items;
  };
  const driftTotal = async () => {
    const text = await (await fetch(env.controlPlaneMetricsUrl)).text();
    const m = new RegExp(`^sovereign_guard_drift_total\\{cluster="${cluster}"\\} (\\d+)`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it("an edited guard parameter is restored within 10 s; the host shows a Warning Event on the MemberCluster and counts it", async () => {
    const facts = await waitFor(() => { const d = param(); return d?.country ? d : undefined; }, { what: `the guard's parameter on ${cluster}`, timeoutMs: 30_000 });
    const eventsBefore = driftEvents().filter((e) => e.message.includes("ConfigMap/sovereign-residency-facts was edited")).length;
    const totalBefore = await waitFor(driftTotal, { what: "sovereign_guard_drift_total of the member (created at 0)", timeoutMs: 30_000 });
    const forged = facts.country === "US" ? "CN" : "US";
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[cluster]!, args: ["patch", ...PARAM, "--type=merge", "-p", JSON.stringify({ data: { country: forged } })] });
    assert.equal(param()?.country, forged, "the edit took");
    const t0 = performance.now();
    await waitFor(() => param()?.country === facts.country, { what: "the parameter restored", timeoutMs: 10_000, intervalMs: 100 });
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 10, `${seconds} s`);
    const event = await waitFor(() => {
      const events = driftEvents().filter((e) => e.message.includes("ConfigMap/sovereign-residency-facts was edited"));
      return events.length > eventsBefore ? events.at(-1) : undefined;
    }, { what: "a GuardDriftRestored Event on the MemberCluster", timeoutMs: 30_000, intervalMs: 500 });
    assert.equal(event.type, "Warning");
    await waitFor(async () => ((await driftTotal()) ?? 0) > totalBefore, { what: "sovereign_guard_drift_total counted it", timeoutMs: 15_000, intervalMs: 500 });
  });

  it("a deleted guard binding is recreated within 10 s and reported", async () => {
    const binding = ["validatingadmissionpolicybinding", "sovereign-residency-guard"];
    assert.equal(onMember(["get", ...binding]).status, 0, "the positive control: the binding is there");
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[cluster]!, args: ["delete", ...binding] });
    await waitFor(() => onMember(["get", ...binding]).status === 0, { what: "the binding recreated", timeoutMs: 10_000, intervalMs: 100 });
    await waitFor(() => driftEvents().some((e) => e.message.includes("ValidatingAdmissionPolicyBinding/sovereign-residency-guard was deleted")), { what: "the Event of the deleted binding", timeoutMs: 30_000, intervalMs: 500 });
  });
});
