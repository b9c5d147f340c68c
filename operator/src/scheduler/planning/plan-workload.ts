/**
 * The one decision path, failover included: from a snapshot of the federation (the
 * clusters, what the other workloads take on them), where the workload's replicas are
 * now and the instant, to a WorkloadDecision. The workload controller acts on it, gRPC
 * Explain answers it and `kubectl sovereign simulate` prints it, so what an admin is told
 * is what the control plane does, NotReady holders and all.
 */
import { describeViolations, podTemplateViolations } from "../../api/index.ts";
import type { ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import { clusterViewOf, placementRequestOf, unreadableQuantity } from "../adapt.ts";
import {
  createSnapshot, DecisionReason, ReasonBit, reasonsOf, schedule, UnselectedReason, type Decision, type Rejection, type Unselection,
} from "../core/index.ts";
import { defaultProfile } from "../plugins/index.ts";
import { judgeClusters } from "./compliance.ts";
import { classifyHolders } from "./holders.ts";
import { nextChangeAt } from "./next-change.ts";
import { plan } from "./plan.ts";
import type { PlanningInput, SubDecide, WorkloadDecision } from "./types.ts";

/**
 * A pod template no member may run (privileged, host namespaces, hostPath, a ServiceAccount
 * the policy does not allow...) is placed nowhere, whatever the clusters: every holder's
 * replicas go, and the message names each field. Here, not in the controller, so Explain
 * and simulate say the same.
 */
function forbiddenTemplate({ workload, policy }: { workload: SovereignWorkload; policy: ResidencyPolicy | undefined }): ReturnType<typeof plan> | undefined {
  const violations = podTemplateViolations({ template: workload.spec.template, namespace: workload.metadata.namespace ?? "default", policy: policy?.spec });
  // A resource quantity nobody can read: every member's API server would refuse the Deployment.
  const unreadable = unreadableQuantity(workload.spec.template.spec);
  if (violations.length === 0 && !unreadable) return undefined;
  const message = [...(violations.length > 0 ? [describeViolations(violations)] : []), ...(unreadable ? [unreadable.message] : [])].join("; ");
  return { placements: [], scheduled: false, reason: DecisionReason.PodTemplateForbidden, message, failedOver: [], replaced: [], decided: false };
}

/** crossBorderFailover: false anywhere (policy or inline) keeps failover within the country. */
export function crossBorderFailoverOf(workload: SovereignWorkload, policy: ResidencyPolicy | undefined): boolean {
  return policy?.spec.crossBorderFailover !== false && workload.spec.residency?.crossBorderFailover !== false;
}

export function planWorkload(input: PlanningInput): WorkloadDecision {
  const { workload, policy, now } = input;
  const profile = input.profile ?? defaultProfile;
  const request = placementRequestOf({ workload, policy });
  const clusters = new Map(input.clusters.map((c) => [c.metadata.name, c]));
  // One view and one snapshot per cluster for the whole planning: every question below reads them.
  const views = input.clusters.map((cluster) => clusterViewOf({ cluster, used: input.used.get(cluster.metadata.name) }));
  const snapshot = createSnapshot(views);
  const { violations, rejections } = judgeClusters({ snapshot, request, now, profile });

  const previous = (input.current ?? workload.status?.placements ?? []).filter((p) => p.replicas > 0);
  const holders = classifyHolders({ previous, clusters, violations, failover: workload.spec.failover, now });
  let last: Decision | undefined;
  const decide: SubDecide = ({ request: sub, exclude, current }) => {
    const among = exclude.size === 0 ? snapshot : createSnapshot(views.filter((v) => !exclude.has(v.name)));
    last = schedule({ snapshot: among, request: { ...sub, current: current.map((p) => ({ cluster: p.cluster, replicas: p.replicas })) }, now, profile });
    return last;
  };
  const planned = forbiddenTemplate({ workload, policy }) ?? plan({ request, holders, crossBorderFailover: crossBorderFailoverOf(workload, policy), decide });

  const placed = new Set(planned.placements.map((p) => p.cluster));
  const decided = planned.decided ? last : undefined;
  const rejected = rejectedOf({ placed, probe: rejections, decision: decided?.rejected });
  const refused = new Set(rejected.map((r) => r.cluster));
  const unselectedAs = new Map((decided?.unselected ?? []).map((u) => [u.cluster, u.reason]));
  const unselected: Unselection[] = snapshot.clusters
    .filter((c) => !placed.has(c.name) && !refused.has(c.name))
    .map((c) => ({ cluster: c.name, reason: unselectedAs.get(c.name) ?? (decided ? UnselectedReason.NoReplicasLeft : UnselectedReason.PlacementKept) }));
  const next = nextChangeAt({ request, placements: planned.placements, holders, clusters, now });
  return {
    workload: request.workload,
    request,
    placements: planned.placements,
    scheduled: planned.scheduled,
    reason: planned.reason,
    message: planned.message,
    holders,
    failedOver: planned.failedOver,
    replaced: planned.replaced,
    rejected,
    unselected,
    nonCompliant: violations,
    decided: planned.decided,
    ...(next !== undefined ? { nextChangeAt: next } : {}),
  };
}

/** The probe's reasons and those of the decision taken (capacity, spread), for every cluster holding nothing. */
function rejectedOf({ placed, probe, decision }: {
  placed: ReadonlySet<string>;
  probe: ReadonlyMap<string, readonly Rejection["reasons"][number][]>;
  decision: readonly Rejection[] | undefined;
}): Rejection[] {
  const sets = new Map<string, number>();
  const add = (cluster: string, reasons: readonly Rejection["reasons"][number][]) => {
    let set = sets.get(cluster) ?? 0;
    for (const r of reasons) set |= ReasonBit[r];
    sets.set(cluster, set);
  };
  for (const [cluster, reasons] of probe) add(cluster, reasons);
  for (const r of decision ?? []) add(r.cluster, r.reasons);
  return [...sets]
    .filter(([cluster, set]) => !placed.has(cluster) && set !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cluster, set]) => ({ cluster, reasons: reasonsOf(set) }));
}
