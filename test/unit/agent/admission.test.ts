import assert from "node:assert/strict";
import { deploymentFor, intentRefusal, intentViolations } from "../../../operator/src/agent/index.ts";
import type { PlacementIntent } from "../../../operator/src/gen/sovereign/v1/intent.ts";
import { sampleIntent } from "../../support/samples.ts";

const AGENT_NAMESPACE = "sovereign-agents";

/** The sample intent with its pod spec changed by `spec` (merged into the one container's pod). */
function intentWith(params: { spec?: Record<string, unknown>; container?: Record<string, unknown>; namespace?: string; podSecurity?: PlacementIntent["podSecurity"] }): PlacementIntent {
  const base = sampleIntent();
  const container = { name: "app", image: "registry.example/records:1.4", ...params.container };
  return {
    ...base,
    workload: { ...base.workload!, namespace: params.namespace ?? base.workload!.namespace },
    podTemplate: { metadata: { labels: { app: "records" } }, spec: { containers: [container], ...params.spec } },
    podSecurity: "podSecurity" in params ? params.podSecurity : base.podSecurity,
  };
}

const check = (intent: PlacementIntent) => intentViolations({ intent, deployment: deploymentFor(intent), agentNamespace: AGENT_NAMESPACE });

describe("agent: what the member refuses to run before it applies (defence in depth)", () => {
  const refused: { what: string; intent: PlacementIntent; field: string; reason: RegExp }[] = [
    { what: "a privileged container", intent: intentWith({ container: { securityContext: { privileged: true } } }), field: "intent podTemplate.spec.containers[0].securityContext.privileged", reason: /privileged/ },
    { what: "a privileged init container", intent: intentWith({ spec: { initContainers: [{ name: "i", image: "x", securityContext: { privileged: true } }] } }), field: "intent podTemplate.spec.initContainers[0].securityContext.privileged", reason: /privileged/ },
    { what: "a hostPath volume", intent: intentWith({ spec: { volumes: [{ name: "root", hostPath: { path: "/" } }] } }), field: "intent podTemplate.spec.volumes[0].hostPath", reason: /path of the member's nodes/ },
    { what: "hostNetwork", intent: intentWith({ spec: { hostNetwork: true } }), field: "intent podTemplate.spec.hostNetwork", reason: /network namespace/ },
    { what: "hostPID", intent: intentWith({ spec: { hostPID: true } }), field: "intent podTemplate.spec.hostPID", reason: /PID namespace/ },
    { what: "hostIPC", intent: intentWith({ spec: { hostIPC: true } }), field: "intent podTemplate.spec.hostIPC", reason: /IPC namespace/ },
    { what: "an added capability", intent: intentWith({ container: { securityContext: { capabilities: { add: ["SYS_ADMIN"] } } } }), field: "intent podTemplate.spec.containers[0].securityContext.capabilities.add[0]", reason: /SYS_ADMIN.*no capability but NET_BIND_SERVICE/ },
    { what: "a ServiceAccount the policy does not allow", intent: intentWith({ spec: { serviceAccountName: "cluster-admin-sa" } }), field: "intent podTemplate.spec.serviceAccountName", reason: /cluster-admin-sa/ },
    { what: "the deprecated serviceAccount alias", intent: intentWith({ spec: { serviceAccount: "cluster-admin-sa" } }), field: "intent podTemplate.spec.serviceAccount", reason: /cluster-admin-sa/ },
    { what: "an allowed account when the intent carries no podSecurity (an older control plane: strictest reading)", intent: intentWith({ spec: { serviceAccountName: "records-reader" }, podSecurity: undefined }), field: "intent podTemplate.spec.serviceAccountName", reason: /records-reader/ },
    { what: "kube-system", intent: intentWith({ namespace: "kube-system" }), field: "intent workload.namespace", reason: /"kube-system"/ },
    { what: "another kube-* namespace", intent: intentWith({ namespace: "kube-node-lease" }), field: "intent workload.namespace", reason: /"kube-node-lease"/ },
    { what: "sovereign-system", intent: intentWith({ namespace: "sovereign-system" }), field: "intent workload.namespace", reason: /"sovereign-system"/ },
    { what: "the agent's own release namespace", intent: intentWith({ namespace: AGENT_NAMESPACE }), field: "intent workload.namespace", reason: new RegExp(`"${AGENT_NAMESPACE}"`) },
  ];
  for (const c of refused) {
    it(`refuses ${c.what}, naming the field`, () => {
      const violations = check(c.intent);
      assert.equal(violations.length, 1, JSON.stringify(violations));
      assert.equal(violations[0]!.field, c.field);
      assert.match(violations[0]!.reason, c.reason);
      const refusal = intentRefusal({ intent: c.intent, deployment: deploymentFor(c.intent), agentNamespace: AGENT_NAMESPACE });
      assert.ok(refusal?.includes(c.field), refusal);
    });
  }

  it("names every violation of one intent in the refusal", () => {
    const intent = intentWith({ namespace: "kube-system", spec: { hostNetwork: true, volumes: [{ name: "v", hostPath: { path: "/etc" } }] }, container: { securityContext: { privileged: true } } });
    const refusal = intentRefusal({ intent, deployment: deploymentFor(intent), agentNamespace: AGENT_NAMESPACE })!;
    for (const field of ["workload.namespace", "spec.hostNetwork", "volumes[0].hostPath", "securityContext.privileged"]) assert.ok(refusal.includes(field), `${field} in ${refusal}`);
  });

  const admitted: { what: string; intent: PlacementIntent }[] = [
    { what: "a compliant restricted template (the positive control)", intent: intentWith({ container: { securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } } } }) },
    { what: "NET_BIND_SERVICE, the one capability restricted allows", intent: intentWith({ container: { securityContext: { capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } } }) },
    { what: "a ServiceAccount the policy allows", intent: intentWith({ spec: { serviceAccountName: "records-reader" } }) },
    { what: "the default ServiceAccount named explicitly", intent: intentWith({ spec: { serviceAccountName: "default" }, podSecurity: undefined }) },
    { what: "privileged: false and hostNetwork: false", intent: intentWith({ spec: { hostNetwork: false }, container: { securityContext: { privileged: false } } }) },
    { what: "a namespace merely containing kube", intent: intentWith({ namespace: "my-kube-apps" }) },
  ];
  for (const c of admitted) {
    it(`admits ${c.what}`, () => {
      assert.deepEqual(check(c.intent), []);
      assert.equal(intentRefusal({ intent: c.intent, deployment: deploymentFor(c.intent), agentNamespace: AGENT_NAMESPACE }), undefined);
    });
  }
});
