/**
 * The workload controller's desired step: pure, no I/O, no clock (`now` is an input).
 * From the workload, the clusters, a decision function, the members' reports and the
 * previous status it returns the placements, one intent per cluster concerned, the new
 * status, events, audit records and when to look again.
 */
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import { getCondition, WORKLOAD_CONDITIONS } from "../../api/index.ts";
import { placementRequestOf } from "../../scheduler/index.ts";
import { validityEnd } from "../../scheduler/index.ts";
import type { Placement, PlacementRequest } from "../../scheduler/index.ts";
import { CLUSTER_REMOVED, placementRejections, residencyViolations } from "./compliance.ts";
import { classifyHolders } from "./holders.ts";
import { plan as planPlacements } from "./plan.ts";
import { buildAudit, buildEvents, buildIntents } from "./records.ts";
import { buildStatus, rejectedClustersOf } from "./status.ts";
import type { DesiredInput, DesiredState, Holder } from "./types.ts";

/** crossBorderFailover: false anywhere (policy or inline) keeps failover within the country. */
export function crossBorderFailoverOf(workload: SovereignWorkload, policy: ResidencyPolicy | undefined): boolean {
  return policy?.spec.crossBorderFailover !== false && workload.spec.residency?.crossBorderFailover !== false;
}

export function desired(input: DesiredInput): DesiredState {
  const { workload, policy, now } = input;
  const at = now.getTime();
  const request = placementRequestOf({ workload, policy });
  const clusters = new Map(input.clusters.map((c) => [c.metadata.name, c]));
  const listed = workload.status?.placements ?? [];
  const previous = listed.filter((p) => p.replicas > 0);

  const violations = residencyViolations({ clusters: input.clusters, request, now: at });
  const holders = classifyHolders({ previous, clusters, violations, failover: workload.spec.failover, now: at });
  const plan = planPlacements({ request, holders, crossBorderFailover: crossBorderFailoverOf(workload, policy), decide: input.decide });

  const placed = new Set(plan.placements.map((p) => p.cluster));
  // A cluster emptied now, or earlier without its zero intent acknowledged yet.
  const vacating: Placement[] = listed
    .filter((p) => !placed.has(p.cluster) && !(p.replicas === 0 && input.removalAcknowledged.has(p.cluster)))
    .map((p) => ({ cluster: p.cluster, country: p.country, replicas: 0 }));

  const nonCompliant = new Set([...violations.keys(), ...listed.filter((p) => !clusters.has(p.cluster)).map((p) => p.cluster)]);
  const status = buildStatus({
    workload,
    plan,
    vacating,
    reports: input.reports,
    rejectedClusters: rejectedClustersOf({ placed, probe: placementRejections({ clusters: input.clusters, request, now: at }), decision: plan.decided ? plan.rejected : undefined }),
    nonCompliant,
    now,
  });

  const basis = workload.metadata.resourceVersion ?? "";
  const before = new Map(previous.map((p) => [p.cluster, p.replicas]));
  const changed = !samePlacements(previous, plan.placements);
  const audit = changed
    ? buildAudit({ workload, request, before, after: plan.placements, plan, holders, clusters, now, decidedBy: input.decidedBy, basis })
    : [];
  const intents = buildIntents({ workload, request, placements: plan.placements, previous: listed.map((p) => p.cluster), clusters, now, basis });
  const events = buildEvents({ plan, changed, holders, previousScheduled: getCondition(workload.status?.conditions, WORKLOAD_CONDITIONS.Scheduled) });
  const next = nextChange({ request, placements: plan.placements, holders, clusters, now: at });
  return { placements: plan.placements, intents, status, events, audit, holders, ...(next !== undefined ? { requeueAfterMs: next } : {}) };
}

function samePlacements(a: readonly { cluster: string; replicas: number }[], b: readonly { cluster: string; replicas: number }[]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(a.map((p) => [p.cluster, p.replicas]));
  return b.every((p) => m.get(p.cluster) === p.replicas);
}

/**
 * Milliseconds from now to the next instant this decision can change with no event at
 * all: a certification the workload requires expiring on a cluster it relies on, or the
 * toleration of an unreachable cluster running out.
 */
export function nextChange({ request, placements, holders, clusters, now }: {
  request: PlacementRequest;
  placements: readonly Placement[];
  holders: readonly Holder[];
  clusters: ReadonlyMap<string, MemberCluster>;
  now: number;
}): number | undefined {
  const required = new Set(request.constraints.flatMap((c) => c.requiredCertifications ?? []));
  const instants: number[] = [];
  for (const p of placements) {
    for (const cert of clusters.get(p.cluster)?.spec.residency.certifications ?? []) {
      if (!required.has(cert.name)) continue;
      const end = validityEnd(cert.validUntil);
      if (end > now) instants.push(end);
    }
  }
  for (const h of holders) if (h.tolerationEndsAt !== undefined && h.tolerationEndsAt > now) instants.push(h.tolerationEndsAt);
  if (instants.length === 0) return undefined;
  return Math.min(...instants) - now;
}

export { CLUSTER_REMOVED };
