/**
 * Whether this member may run an intent at all: the agent's own check of the pod
 * template and namespace before anything is applied. The host checks the same rules
 * (api/pod-security.ts) before it places a workload; the agent checks again because an
 * intent reaches it over NATS, and a compromised control plane, a forged publish or a
 * workload stored before the rules existed must not get a privileged pod, a hostPath or
 * a pod in the agent's own namespace onto the member. Pure.
 */
import { describeViolations, podTemplateViolations } from "../api/index.ts";
import type { PodTemplateViolation } from "../api/index.ts";
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { Deployment } from "../kube/index.ts";

/**
 * Every reason the member refuses `deployment` (built from `intent`), named by the
 * intent's fields. An intent without podSecurity (an older control plane) gets the
 * strictest reading: the namespace's default ServiceAccount only.
 */
export function intentViolations(params: { intent: PlacementIntent; deployment: Deployment; agentNamespace: string }): PodTemplateViolation[] {
  const allowed = params.intent.podSecurity?.allowedServiceAccounts ?? [];
  return podTemplateViolations({
    template: params.deployment.spec.template,
    namespace: params.deployment.metadata.namespace ?? "",
    policy: { podSecurity: { allowedServiceAccounts: [...allowed] } },
    forbiddenNamespaces: [params.agentNamespace],
    paths: { template: "intent podTemplate", namespace: "intent workload.namespace" },
  });
}

/** Why the member refuses the intent, one line naming each field; undefined when it may run. */
export function intentRefusal(params: { intent: PlacementIntent; deployment: Deployment; agentNamespace: string }): string | undefined {
  const violations = intentViolations(params);
  return violations.length ? `refused by the member: ${describeViolations(violations)}` : undefined;
}
