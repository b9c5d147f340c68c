/**
 * The workload controller's desired step: pure, no I/O, no clock (`now` is an input).
 * The scheduler plans the placement (failover included, scheduler/planning) from the
 * workload, the clusters and what the other workloads use; from that decision, the
 * members' reports and the previous status this returns one intent per cluster
 * concerned, the new status, events, audit records and when to look again.
 */
import type { RejectedCluster } from "../../api/index.ts";
import { getCondition, REJECTION_REASONS, setCondition, WORKLOAD_CONDITIONS } from "../../api/index.ts";
import { planWorkload } from "../../scheduler/index.ts";
import type { Placement } from "../../scheduler/index.ts";
import { buildAudit, buildEvents, buildIntents, zeroIntent } from "./records.ts";
import { buildStatus, withReadiness, WorkloadReason } from "./status.ts";
import type { DesiredInput, DesiredState } from "./types.ts";

export { crossBorderFailoverOf } from "../../scheduler/index.ts";

export function desired(input: DesiredInput): DesiredState {
  const { workload, policy, now } = input;
  const named = workload.spec.residencyPolicy;
  if (named !== undefined && policy?.metadata.name !== named) return policyNotFound({ ...input, named });
  const at = now.getTime();
  const listed = workload.status?.placements ?? [];
  const decision = planWorkload({ workload, policy, clusters: input.clusters, used: input.used, current: listed, now: at });
  const { request, holders } = decision;
  const clusters = new Map(input.clusters.map((c) => [c.metadata.name, c]));
  const previous = listed.filter((p) => p.replicas > 0);

  const placed = new Set(decision.placements.map((p) => p.cluster));
  // A cluster emptied now, or earlier without its zero intent acknowledged yet.
  const vacating: Placement[] = listed
    .filter((p) => !placed.has(p.cluster) && !(p.replicas === 0 && input.removalAcknowledged.has(p.cluster)))
    .map((p) => ({ cluster: p.cluster, country: p.country, replicas: 0 }));

  const nonCompliant = new Set([...decision.nonCompliant.keys(), ...listed.filter((p) => !clusters.has(p.cluster)).map((p) => p.cluster)]);
  const status = buildStatus({ workload, plan: decision, vacating, reports: input.reports, rejectedClusters: inApiWords(decision.rejected), nonCompliant, now });

  const basis = workload.metadata.resourceVersion ?? "";
  const before = new Map(previous.map((p) => [p.cluster, p.replicas]));
  const changed = !samePlacements(previous, decision.placements);
  const audit = changed
    ? buildAudit({ workload, request, before, after: decision.placements, plan: decision, holders, clusters, now, decidedBy: input.decidedBy, basis })
    : [];
  const intents = buildIntents({ workload, policy, request, placements: decision.placements, previous: listed.map((p) => p.cluster), clusters, now, basis });
  const events = buildEvents({ plan: decision, changed, holders, previousScheduled: getCondition(workload.status?.conditions, WORKLOAD_CONDITIONS.Scheduled) });
  const next = decision.nextChangeAt;
  return { placements: decision.placements, intents, status, events, audit, holders, ...(next !== undefined ? { requeueAfterMs: next - at } : {}) };
}

/**
 * The workload names a ResidencyPolicy that does not exist (not yet, or deleted since):
 * nothing can be decided, so nothing is placed anew. The replicas it has keep running
 * where the status lists them (their intents carry the residency they were placed under,
 * which each member's guard holds them to); a cluster being vacated still gets its zero
 * intent and leaves the status once JetStream acknowledged it; no audit record.
 * Scheduled=False, reason PolicyNotFound, naming the field, and one Warning Event when
 * that state begins; the policy's arrival wakes the workload (the controller's policy index).
 */
function policyNotFound(input: DesiredInput & { named: string }): DesiredState {
  const { workload, now, named } = input;
  const generation = workload.metadata.generation ?? 0;
  const message = `spec.residencyPolicy: ResidencyPolicy "${named}" does not exist; placements are left as they are until it does`;
  const previous = getCondition(workload.status?.conditions, WORKLOAD_CONDITIONS.Scheduled);
  const conditions = setCondition(workload.status?.conditions, {
    type: WORKLOAD_CONDITIONS.Scheduled, status: "False", reason: WorkloadReason.PolicyNotFound, message, observedGeneration: generation,
  }, now);
  const vacated = (p: { cluster: string; replicas: number }) => p.replicas === 0 && input.removalAcknowledged.has(p.cluster);
  const listed = (workload.status?.placements ?? []).filter((p) => !vacated(p));
  const status = withReadiness({
    // No decision, so no rejected clusters: the last decision's would be read as this one's.
    status: { ...workload.status, observedGeneration: generation, conditions: [...conditions], placements: listed, rejectedClusters: [] },
    reports: input.reports, wanted: workload.spec.replicas, generation, now,
  });
  const fresh = previous?.status !== "False" || previous.reason !== WorkloadReason.PolicyNotFound;
  return {
    placements: listed.filter((p) => p.replicas > 0).map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas })),
    intents: listed.filter((p) => p.replicas === 0).map((p) => zeroIntent({ workload, cluster: p.cluster, now, why: "vacated" })),
    status,
    events: fresh ? [{ type: "Warning", reason: "Unschedulable", message: `${WorkloadReason.PolicyNotFound}: ${message}` }] : [],
    audit: [],
    holders: [],
  };
}

/** The decision's rejections in the API's words (every core reason is one). */
function inApiWords(rejected: readonly { cluster: string; reasons: readonly string[] }[]): RejectedCluster[] {
  return rejected.map((r) => ({ cluster: r.cluster, reasons: REJECTION_REASONS.filter((x) => r.reasons.includes(x)) })).filter((r) => r.reasons.length > 0);
}

function samePlacements(a: readonly { cluster: string; replicas: number }[], b: readonly { cluster: string; replicas: number }[]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(a.map((p) => [p.cluster, p.replicas]));
  return b.every((p) => m.get(p.cluster) === p.replicas);
}
