/**
 * From an intent to the one Deployment the agent keeps for it, and back: what a
 * Deployment on the member says it was applied from. Pure.
 */
import { DEPLOYMENT_ANNOTATIONS, MANAGED_BY_AGENT, MEMBER_LABELS, REQUIREMENT_ANNOTATIONS } from "../api/index.ts";
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { ResidencyRequirements, WorkloadRef } from "../gen/sovereign/v1/residency.ts";
import type { Deployment } from "../kube/index.ts";
import { TerminalError } from "../runtime/index.ts";

/** The field manager of everything the agent applies. */
export const FIELD_MANAGER = "sovereign-agent";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** An intent the agent cannot turn into a Deployment: retrying the same intent cannot help. */
export class InvalidIntentError extends TerminalError {
  override readonly name = "InvalidIntentError";
  readonly field: string;
  constructor(field: string, why: string) {
    super(`intent ${field}: ${why}`);
    this.field = field;
  }
}

/** The pod annotations the residency guard reads: always all four, so a pod says exactly what it requires. */
export function requirementAnnotations(req: ResidencyRequirements | undefined): Record<string, string> {
  return {
    [REQUIREMENT_ANNOTATIONS.allowedCountries]: (req?.allowedCountries ?? []).join(","),
    [REQUIREMENT_ANNOTATIONS.allowedJurisdictions]: (req?.allowedJurisdictions ?? []).join(","),
    [REQUIREMENT_ANNOTATIONS.requiredCertifications]: (req?.requiredCertifications ?? []).join(","),
    [REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure]: String(req?.forbidExtraterritorialExposure ?? false),
  };
}

function workloadOf(intent: PlacementIntent): WorkloadRef {
  const w = intent.workload;
  if (!w) throw new InvalidIntentError("workload", "is missing");
  if (!DNS_LABEL.test(w.namespace) || w.namespace.length > 63) throw new InvalidIntentError("workload.namespace", `${JSON.stringify(w.namespace)} is not a namespace name`);
  if (!DNS_SUBDOMAIN.test(w.name) || w.name.length > 253) throw new InvalidIntentError("workload.name", `${JSON.stringify(w.name)} is not a Deployment name`);
  if (!w.uid) throw new InvalidIntentError("workload.uid", "is empty");
  return w;
}

type Template = Deployment["spec"]["template"];

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * The Deployment for an intent with replicas > 0. Everything that changes with each
 * decision (intent id, generation, decidedAt) goes on the Deployment, never in the pod
 * template: the same template must give the same ReplicaSet, so re-applying an intent
 * (a restart, a resync, a new decision with the same pods) never replaces a pod.
 */
export function deploymentFor(intent: PlacementIntent): Deployment {
  const workload = workloadOf(intent);
  if (!Number.isInteger(intent.replicas) || intent.replicas < 1) throw new InvalidIntentError("replicas", `${intent.replicas} is not a positive replica count`);
  const source = intent.podTemplate;
  if (!isRecord(source) || !isRecord(source.spec)) throw new InvalidIntentError("podTemplate.spec", "is missing");
  const template = structuredClone(source) as Template;
  const sourceMeta = isRecord(template.metadata) ? template.metadata : {};
  // Labels and annotations the guard and the selector depend on are the agent's: a
  // template cannot override them, or a pod could escape its own workload's check.
  const metadata = {
    ...sourceMeta,
    labels: { ...(isRecord(sourceMeta.labels) ? sourceMeta.labels as Record<string, string> : {}), [MEMBER_LABELS.workloadUid]: workload.uid },
    annotations: { ...(isRecord(sourceMeta.annotations) ? sourceMeta.annotations as Record<string, string> : {}), ...requirementAnnotations(intent.requirements) },
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      labels: { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT, [MEMBER_LABELS.workloadUid]: workload.uid },
      annotations: {
        [DEPLOYMENT_ANNOTATIONS.workload]: `${workload.namespace}/${workload.name}`,
        [DEPLOYMENT_ANNOTATIONS.generation]: String(intent.generation),
        [DEPLOYMENT_ANNOTATIONS.intentId]: intent.intentId,
        [DEPLOYMENT_ANNOTATIONS.decidedAt]: (intent.decidedAt ?? new Date(0)).toISOString(),
      },
    },
    spec: {
      replicas: intent.replicas,
      selector: { matchLabels: { [MEMBER_LABELS.workloadUid]: workload.uid } },
      template: { ...template, metadata },
    },
  };
}

/** What a Deployment on the member was applied from; undefined for one the agent does not manage. */
export interface AppliedFrom {
  workload: WorkloadRef;
  generation: number;
  intentId: string;
  /** Epoch ms of the intent's decidedAt. */
  decidedAt: number;
}

export function appliedFrom(d: Deployment | undefined): AppliedFrom | undefined {
  const labels = d?.metadata.labels ?? {};
  if (!d || labels[MEMBER_LABELS.managedBy] !== MANAGED_BY_AGENT || !labels[MEMBER_LABELS.workloadUid]) return undefined;
  const a = d.metadata.annotations ?? {};
  const [namespace = d.metadata.namespace ?? "", name = d.metadata.name] = (a[DEPLOYMENT_ANNOTATIONS.workload] ?? "").split("/");
  const decidedAt = Date.parse(a[DEPLOYMENT_ANNOTATIONS.decidedAt] ?? "");
  return {
    workload: { namespace: namespace || (d.metadata.namespace ?? ""), name: name || d.metadata.name, uid: labels[MEMBER_LABELS.workloadUid]! },
    generation: Number(a[DEPLOYMENT_ANNOTATIONS.generation] ?? 0) || 0,
    intentId: a[DEPLOYMENT_ANNOTATIONS.intentId] ?? "",
    decidedAt: Number.isNaN(decidedAt) ? 0 : decidedAt,
  };
}
