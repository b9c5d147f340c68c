/**
 * What to do with one intent given what the member holds, and what a resync removes.
 * Pure: the agent's shell does the I/O these plans describe.
 */
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { Deployment } from "../kube/index.ts";
import { appliedFrom } from "./deployment.ts";

export type IntentPlan =
  /** Server-side apply the Deployment (create or update). */
  | { action: "apply" }
  /** A Deployment of this name belongs to another workload uid (deleted and recreated on the host): delete it, then apply. */
  | { action: "replace"; deleteUid: string }
  /** Zero replicas: delete this workload's Deployment. */
  | { action: "delete"; deleteUid: string }
  /** Nothing on the member to change (zero replicas for a Deployment that is not there). */
  | { action: "none" }
  /** Decided before what the member already applied: a newer intent won. */
  | { action: "stale" }
  /** The name is taken by a Deployment the agent does not manage: never touch someone else's object. */
  | { action: "conflict"; message: string };

export function planIntent(params: {
  intent: PlacementIntent;
  /** The Deployment of the workload's namespace/name on the member, if any. */
  current: Deployment | undefined;
  /** The newest decidedAt (epoch ms) this agent has handled for this workload uid, across deletes. */
  lastHandledAt?: number;
}): IntentPlan {
  const { intent, current } = params;
  const uid = intent.workload?.uid ?? "";
  const decidedAt = intent.decidedAt?.getTime() ?? 0;
  if (params.lastHandledAt !== undefined && decidedAt < params.lastHandledAt) return { action: "stale" };
  const applied = appliedFrom(current);
  if (current && !applied) {
    return { action: "conflict", message: `Deployment ${current.metadata.namespace}/${current.metadata.name} exists and is not managed by the sovereign agent; it is left alone` };
  }
  const ours = applied !== undefined && applied.workload.uid === uid;
  if (ours && decidedAt < applied.decidedAt) return { action: "stale" };
  if (intent.replicas <= 0) return ours ? { action: "delete", deleteUid: current!.metadata.uid ?? "" } : { action: "none" };
  if (applied && !ours) return { action: "replace", deleteUid: current!.metadata.uid ?? "" };
  return { action: "apply" };
}

/**
 * The Deployments a resync removes: managed ones whose workload has no intent with
 * replicas > 0 in the stream. `protectedUids` are workloads the agent handled since the
 * snapshot of intents was read (a new intent may have created their Deployment after it).
 */
export function resyncRemovals(params: {
  intents: readonly PlacementIntent[];
  deployments: readonly Deployment[];
  protectedUids?: ReadonlySet<string>;
}): Deployment[] {
  const wanted = new Set(params.intents.filter((i) => i.replicas > 0).map((i) => i.workload?.uid ?? ""));
  return params.deployments.filter((d) => {
    const applied = appliedFrom(d);
    if (!applied) return false;
    return !wanted.has(applied.workload.uid) && !params.protectedUids?.has(applied.workload.uid);
  });
}
