import assert from "node:assert/strict";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { kubectl } from "../kubectl.ts";

/**
 * The agent's RBAC on an agent member of the local federation (installed by `up` from
 * charts/member-agent), asked with `kubectl auth can-i --as` its ServiceAccount: what it
 * must do is granted (each a positive control), the residency guard's own objects only by
 * name, and nothing beside them. What RBAC cannot refuse (Deployments in kube-system or
 * sovereign-system) is refused by sovereign-agent-limits: real requests in
 * test/integration/local-federation/identities.test.ts.
 */
const AGENT = "system:serviceaccount:sovereign-system:federation-member-agent";

describe("the agent's RBAC on its member, as narrow as Kubernetes allows (kubectl auth can-i --as)", function () {
  let env: FederationEnv;
  let member: string;

  before(function () {
    env = readFederationEnv();
    const agent = env.agents[0];
    if (!agent) throw new Error("this test needs a member running an agent (hack/federation up --members ovh-par-1,...)");
    member = agent;
  });

  const canI = (args: string[]): boolean => {
    const r = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[member]!, args: ["auth", "can-i", "--as", AGENT, ...args] });
    assert.match(r.stdout.trim(), /^(yes|no)$/, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim() === "yes";
  };

  it("may keep the guard's policies and bindings by name, its parameter and its own Secret, and nothing beside them", () => {
    const yes: string[][] = [
      ["get", "validatingadmissionpolicy/sovereign-residency-guard"],
      ["update", "validatingadmissionpolicy/sovereign-residency-guard-unlabelled"],
      ["get", "validatingadmissionpolicybinding/sovereign-residency-guard"],
      ["update", "validatingadmissionpolicybinding/sovereign-residency-guard-unlabelled"],
      // Create cannot be limited by name (charts/member-agent/README.md).
      ["create", "validatingadmissionpolicies"],
      ["create", "validatingadmissionpolicybindings"],
      ["patch", "configmap/sovereign-residency-facts", "-n", "sovereign-system"],
      ["get", "secret/sovereign-agent-credentials", "-n", "sovereign-system"],
      ["create", "deployments", "-n", "default"],
    ];
    const no: string[][] = [
      ["update", "validatingadmissionpolicy/sovereign-agent-limits"],
      ["update", "validatingadmissionpolicybinding/sovereign-agent-limits"],
      ["delete", "validatingadmissionpolicy/sovereign-residency-guard"],
      ["delete", "validatingadmissionpolicybinding/sovereign-residency-guard"],
      ["patch", "validatingadmissionpolicy/sovereign-residency-guard"],
      ["list", "validatingadmissionpolicies"],
      ["watch", "validatingadmissionpolicybindings"],
      ["update", "validatingadmissionpolicies"],
      ["update", "validatingwebhookconfigurations"],
      ["create", "mutatingadmissionpolicies"],
      ["get", "secrets", "-n", "sovereign-system"],
      ["get", "secret/federation-member-agent-tls", "-n", "sovereign-system"],
      ["get", "secrets", "-n", "kube-system"],
      ["get", "secrets", "-n", "default"],
      ["update", "configmap/sovereign-residency-facts", "-n", "sovereign-system"],
      ["delete", "configmap/sovereign-residency-facts", "-n", "sovereign-system"],
    ];
    for (const a of yes) assert.equal(canI(a), true, `the agent may ${a.join(" ")}`);
    for (const a of no) assert.equal(canI(a), false, `the agent may not ${a.join(" ")}`);
  });
});
