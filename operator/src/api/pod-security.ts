/**
 * What a sovereign workload's pods may be: checked by the CRD where CEL can see it (the
 * template's fields), by the control plane before it places a workload (the namespace and
 * the ServiceAccount, which depend on the namespace and the ResidencyPolicy), and by the
 * member agent before it applies an intent, since a compromised control plane or a
 * workload stored before these rules existed must not get a privileged pod onto a member
 * either. One pure function for all of them, so the three cannot disagree.
 */
import type { PodSecurityLevel, PodSecurityPolicy } from "./types.ts";

/** The namespace of the control plane and of every agent by default: it holds the federation's credentials. */
export const SYSTEM_NAMESPACE = "sovereign-system";
/** Kubernetes' own namespaces (kube-system, kube-public, kube-node-lease, ...). */
export const RESERVED_NAMESPACE_PREFIX = "kube-";
/** The one capability the restricted Pod Security Standard lets a container add. */
export const ALLOWED_ADDED_CAPABILITIES: readonly string[] = ["NET_BIND_SERVICE"];
export const DEFAULT_SERVICE_ACCOUNT = "default";
export const DEFAULT_POD_SECURITY_LEVEL: PodSecurityLevel = "restricted";

/** The Pod Security admission labels of a namespace (https://kubernetes.io/docs/concepts/security/pod-security-admission/). */
export const POD_SECURITY_LABELS = {
  enforce: "pod-security.kubernetes.io/enforce",
  enforceVersion: "pod-security.kubernetes.io/enforce-version",
} as const;

/** The reasons, shared with the CRD's CEL rules (schema/sovereign-workload.ts) so the API server and this check say the same. */
export const POD_TEMPLATE_REASONS = {
  privileged: "a sovereign workload may not run privileged containers",
  hostNetwork: "a sovereign workload may not use the member's network namespace",
  hostPID: "a sovereign workload may not use the member's PID namespace",
  hostIPC: "a sovereign workload may not use the member's IPC namespace",
  hostPath: "a sovereign workload may not mount a path of the member's nodes",
  capability: `a sovereign workload may add no capability but ${ALLOWED_ADDED_CAPABILITIES.join(", ")}`,
  namespace: `a sovereign workload may not run in ${SYSTEM_NAMESPACE}, the agent's namespace or a ${RESERVED_NAMESPACE_PREFIX}* namespace`,
  serviceAccount: "a sovereign workload runs as its namespace's default ServiceAccount unless its ResidencyPolicy lists the account in spec.podSecurity.allowedServiceAccounts",
} as const;

export interface PodTemplateViolation {
  /** Where, e.g. spec.template.spec.containers[0].securityContext.privileged. */
  field: string;
  reason: string;
}

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;
const HOST_NAMESPACES = ["hostNetwork", "hostPID", "hostIPC"] as const;

function record(x: unknown): Record<string, unknown> | undefined {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

const items = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/** Whether a namespace is one no sovereign workload may use; `extra` are more (an agent's release namespace). */
export function isForbiddenNamespace(namespace: string, extra: readonly string[] = []): boolean {
  return namespace.startsWith(RESERVED_NAMESPACE_PREFIX) || namespace === SYSTEM_NAMESPACE || extra.includes(namespace);
}

/**
 * Every way `template` (a core/v1 PodTemplateSpec, as stored or as received in an intent:
 * any shape) in `namespace` breaks the rules above, with the field and the reason; empty
 * when it may run. `policy` is the workload's ResidencyPolicy spec, if it names one.
 * Fails closed: a template that is not an object, or whose spec is not one, is itself a
 * violation.
 */
export function podTemplateViolations(params: {
  template: unknown;
  namespace: string;
  policy?: { podSecurity?: PodSecurityPolicy | undefined } | undefined;
  /** More namespaces to refuse, e.g. the agent's release namespace on its member. */
  forbiddenNamespaces?: readonly string[];
  /** How fields are named: the template's path and the namespace's (defaults: a SovereignWorkload's). */
  paths?: { template: string; namespace: string };
}): PodTemplateViolation[] {
  const paths = params.paths ?? { template: "spec.template", namespace: "metadata.namespace" };
  const out: PodTemplateViolation[] = [];
  if (isForbiddenNamespace(params.namespace, params.forbiddenNamespaces)) out.push({ field: paths.namespace, reason: `${JSON.stringify(params.namespace)}: ${POD_TEMPLATE_REASONS.namespace}` });
  const spec = record(record(params.template)?.spec);
  const at = `${paths.template}.spec`;
  if (!spec) return [...out, { field: at, reason: "the pod template has no spec" }];

  for (const key of HOST_NAMESPACES) if (spec[key] === true) out.push({ field: `${at}.${key}`, reason: POD_TEMPLATE_REASONS[key] });
  items(spec.volumes).forEach((v, i) => {
    const hostPath = record(v)?.hostPath;
    if (hostPath !== undefined && hostPath !== null) out.push({ field: `${at}.volumes[${i}].hostPath`, reason: POD_TEMPLATE_REASONS.hostPath });
  });
  for (const list of CONTAINER_LISTS) {
    items(spec[list]).forEach((c, i) => {
      const sc = record(record(c)?.securityContext);
      if (!sc) return;
      const where = `${at}.${list}[${i}].securityContext`;
      if (sc.privileged === true) out.push({ field: `${where}.privileged`, reason: POD_TEMPLATE_REASONS.privileged });
      items(record(sc.capabilities)?.add).forEach((cap, j) => {
        if (typeof cap !== "string" || !ALLOWED_ADDED_CAPABILITIES.includes(cap)) out.push({ field: `${where}.capabilities.add[${j}]`, reason: `${JSON.stringify(cap)}: ${POD_TEMPLATE_REASONS.capability}` });
      });
    });
  }
  const allowed = params.policy?.podSecurity?.allowedServiceAccounts ?? [];
  // serviceAccount is the deprecated alias the API server still honours when serviceAccountName is empty.
  for (const key of ["serviceAccountName", "serviceAccount"] as const) {
    const account = spec[key];
    if (account === undefined || account === null || account === "" || account === DEFAULT_SERVICE_ACCOUNT) continue;
    if (typeof account !== "string" || !allowed.includes(account)) out.push({ field: `${at}.${key}`, reason: `${JSON.stringify(account)}: ${POD_TEMPLATE_REASONS.serviceAccount}` });
  }
  return out;
}

/** One line naming every violation, for a condition message or an Event. */
export function describeViolations(violations: readonly PodTemplateViolation[]): string {
  return violations.map((v) => `${v.field}: ${v.reason}`).join("; ");
}

/** The Pod Security Standard a data class asks of its namespaces: restricted unless its policy lowers it to baseline. */
export function podSecurityLevelOf(policy: { podSecurity?: PodSecurityPolicy | undefined } | undefined): PodSecurityLevel {
  return policy?.podSecurity?.level ?? DEFAULT_POD_SECURITY_LEVEL;
}

/**
 * The Pod Security admission labels of a namespace the agent creates for workloads:
 * enforced at `level` (restricted by default), at the latest version of the standard.
 * An unknown level reads as restricted: the stricter, never the looser.
 */
export function namespacePodSecurityLabels(level: string | undefined = DEFAULT_POD_SECURITY_LEVEL): Record<string, string> {
  return {
    [POD_SECURITY_LABELS.enforce]: level === "baseline" ? "baseline" : "restricted",
    [POD_SECURITY_LABELS.enforceVersion]: "latest",
  };
}
