/**
 * A workload's status on this member, from its Deployment and pods as the caches hold
 * them. Pure: the agent calls it whenever one of them changes (debounced) and publishes
 * the result.
 */
import { GUARD_PARAM } from "../api/index.ts";
import type { WorkloadStatus } from "../gen/sovereign/v1/status.ts";
import type { WorkloadRef } from "../gen/sovereign/v1/residency.ts";
import type { Deployment, Pod } from "../kube/index.ts";
import { appliedFrom } from "./deployment.ts";

/** The ValidatingAdmissionPolicy of charts/member-agent/files/residency-guard.yaml. */
export const GUARD_POLICY_NAME = "sovereign-residency-guard";

function isReady(p: Pod): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * Why the Deployment's ReplicaSet cannot create pods (a FailedCreate the deployment
 * controller copies into the ReplicaFailure condition), or undefined.
 */
export function replicaFailure(d: Deployment | undefined): string | undefined {
  const c = d?.status?.conditions?.find((x) => x.type === "ReplicaFailure" && x.status === "True");
  return c ? c.message || c.reason || "ReplicaFailure" : undefined;
}

/** True when the refusal is this member's residency guard's (the API server names the policy in its message). */
export function isGuardRefusal(message: string | undefined): boolean {
  return message !== undefined && (message.includes(GUARD_POLICY_NAME) || message.includes(GUARD_PARAM.name));
}

export function workloadStatus(params: {
  cluster: string;
  workload: WorkloadRef;
  /** The workload's Deployment; absent once removed (or when applying it failed). */
  deployment: Deployment | undefined;
  /** The pods labelled with the workload's uid. */
  pods: readonly Pod[];
  /** Why the last intent could not be applied, if it could not. */
  error?: { message: string; generation: number; replicas: number };
  now: Date;
}): WorkloadStatus {
  const { deployment, error } = params;
  // Terminating pods are on their way out: neither desired nor counted as running.
  const live = params.pods.filter((p) => !p.metadata.deletionTimestamp);
  const podPhases: Record<string, number> = {};
  for (const p of live) {
    const phase = p.status?.phase || "Unknown";
    podPhases[phase] = (podPhases[phase] ?? 0) + 1;
  }
  const applied = appliedFrom(deployment);
  const message = error?.message ?? replicaFailure(deployment) ?? "";
  return {
    cluster: params.cluster,
    workload: params.workload,
    observedGeneration: error?.generation ?? applied?.generation ?? 0,
    // What the member was told to run; a removed Deployment says 0 so the host knows the removal happened.
    desiredReplicas: error ? error.replicas : deployment ? deployment.spec.replicas : 0,
    readyReplicas: live.filter(isReady).length,
    podPhases,
    reportedAt: params.now,
    message,
  };
}

/**
 * What the host acts on in a status (desired, ready, observedGeneration, error): a report
 * that changes none of it is not sent, so pod churn that changes nothing wakes nobody.
 */
export function statusKey(s: Pick<WorkloadStatus, "desiredReplicas" | "readyReplicas" | "observedGeneration" | "message">): string {
  return JSON.stringify([s.desiredReplicas, s.readyReplicas, s.observedGeneration, s.message]);
}

/** The status of a workload with nothing on the member: what the agent assumes the host last heard of a workload it knows nothing about. */
export const GONE_STATUS_KEY = statusKey({ desiredReplicas: 0, readyReplicas: 0, observedGeneration: 0, message: "" });
