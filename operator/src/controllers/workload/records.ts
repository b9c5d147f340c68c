/**
 * What a placement change leaves behind: intents for the members, audit records for the
 * auditors, Events for the user. Ids are derived from what the change is based on, so a
 * retried publish is stored once and a crash between two steps never loses a record.
 */
import { podSecurityLevelOf } from "../../api/index.ts";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import type { AuditRecord, PlacementIntent } from "../../federation/index.ts";
import { residencyFactsOf } from "../../federation/grpc/index.ts";
import { AuditAction } from "../../gen/sovereign/v1/audit.ts";
import type { PodSecurity } from "../../gen/sovereign/v1/intent.ts";
import type { ResidencyRequirements, WorkloadRef } from "../../gen/sovereign/v1/residency.ts";
import { combineResidency } from "../../scheduler/index.ts";
import type { Placement, PlacementRequest } from "../../scheduler/index.ts";
import type { Plan } from "./plan.ts";
import type { Holder, WorkloadEvent } from "./types.ts";

export function workloadRef(workload: SovereignWorkload): WorkloadRef {
  return { namespace: workload.metadata.namespace ?? "default", name: workload.metadata.name, uid: workload.metadata.uid ?? "" };
}

/**
 * The intersection of every constraint (policy and inline), as the member's guard checks
 * it: the scheduler's own fail-closed intersection, so constraints with nothing in common
 * stamp "nothing allowed" on the pods, never an empty list the guard would read as "any".
 */
export function requirementsOf(request: PlacementRequest): ResidencyRequirements {
  return combineResidency(request.constraints);
}

/**
 * The id of an intent: stable for one decision (cluster, workload, generation, replicas,
 * the observed resourceVersion and the decision's instant), so a retried publish of that
 * decision is deduplicated by JetStream. The instant is part of it because two control
 * planes (a leader change whose status write was lost) can decide from the same
 * resourceVersion: without it, "back to 1 replica" after "0" had the id of the first
 * "1" and was dropped as a duplicate within the window, leaving the member at 0. A
 * decision stored twice is harmless: the agent applies the newest intent per subject.
 */
export function intentIdOf(params: { cluster: string; uid: string; generation: number; replicas: number; basis: string; decidedAt: number }): string {
  return `intent:${params.cluster}:${params.uid}:g${params.generation}:r${params.replicas}:rv${params.basis}:t${params.decidedAt}`;
}

export function recordIdOf(params: { uid: string; cluster: string; from: number; to: number; basis: string }): string {
  return `audit:${params.uid}:${params.cluster}:${params.from}->${params.to}:rv${params.basis}`;
}

/** What the agent is told of the pods' rights: the policy's spec.podSecurity, restricted and default-only without one. */
export function podSecurityOf(policy: ResidencyPolicy | undefined): PodSecurity {
  return { level: podSecurityLevelOf(policy?.spec), allowedServiceAccounts: [...(policy?.spec.podSecurity?.allowedServiceAccounts ?? [])].sort() };
}

export function buildIntents({ workload, policy, request, placements, previous, clusters, now, basis }: {
  workload: SovereignWorkload;
  /** The workload's ResidencyPolicy, if it names one: its podSecurity travels with each intent. */
  policy?: ResidencyPolicy | undefined;
  request: PlacementRequest;
  placements: readonly Placement[];
  /** Every cluster the status lists, with or without replicas: each gets an intent. */
  previous: readonly string[];
  clusters: ReadonlyMap<string, MemberCluster>;
  now: Date;
  basis: string;
}): PlacementIntent[] {
  const ref = workloadRef(workload);
  const generation = workload.metadata.generation ?? 0;
  const replicas = new Map(placements.map((p) => [p.cluster, p.replicas]));
  const names = [...new Set([...replicas.keys(), ...previous])].sort();
  const requirements = requirementsOf(request);
  const podSecurity = podSecurityOf(policy);
  return names.map((cluster) => {
    const n = replicas.get(cluster) ?? 0;
    const mc = clusters.get(cluster);
    return {
      intentId: intentIdOf({ cluster, uid: ref.uid, generation, replicas: n, basis, decidedAt: now.getTime() }),
      workload: ref,
      generation,
      cluster,
      replicas: n,
      podTemplate: n > 0 ? (workload.spec.template as unknown as { [key: string]: unknown }) : undefined,
      residency: mc ? residencyFactsOf(mc) : undefined,
      residencyPolicy: workload.spec.residencyPolicy ?? "",
      decidedAt: now,
      requirements,
      podSecurity,
    };
  });
}

/**
 * A zero intent that needs no decision (no policy, no requirements): for a workload being
 * deleted, and for a cluster being vacated while the workload's ResidencyPolicy is missing.
 * The member's agent only needs the workload and the cluster to remove the Deployment.
 */
export function zeroIntent({ workload, cluster, now, why }: { workload: SovereignWorkload; cluster: string; now: Date; why: "deleted" | "vacated" }): PlacementIntent {
  const ref = workloadRef(workload);
  const generation = workload.metadata.generation ?? 0;
  return {
    intentId: `intent:${cluster}:${ref.uid}:g${generation}:${why}`, workload: ref, generation, cluster, replicas: 0,
    podTemplate: undefined, residency: undefined, residencyPolicy: workload.spec.residencyPolicy ?? "", decidedAt: now, requirements: undefined, podSecurity: undefined,
  };
}

/** One record per cluster whose replica count changed. */
export function buildAudit({ workload, request, before, after, plan, holders, clusters, now, decidedBy, basis }: {
  workload: SovereignWorkload;
  request: PlacementRequest;
  before: ReadonlyMap<string, number>;
  after: readonly Placement[];
  plan: Plan;
  holders: readonly Holder[];
  clusters: ReadonlyMap<string, MemberCluster>;
  now: Date;
  decidedBy: string;
  basis: string;
}): AuditRecord[] {
  const ref = workloadRef(workload);
  const requirements = requirementsOf(request);
  const afterMap = new Map(after.map((p) => [p.cluster, p]));
  const sources = new Map<string, { from: Holder; reason: string }>();
  for (const f of plan.failedOver) for (const t of f.to) if (!sources.has(t.cluster)) sources.set(t.cluster, { from: f.from, reason: "Failover" });
  for (const r of plan.replaced) for (const t of r.to) if (!sources.has(t.cluster)) sources.set(t.cluster, { from: r.from, reason: r.from.reasons[0] ?? "Evicted" });
  const holderOf = new Map(holders.map((h) => [h.cluster, h]));
  const countryOf = (cluster: string) => afterMap.get(cluster)?.country ?? holderOf.get(cluster)?.country ?? clusters.get(cluster)?.spec.residency.country ?? "";
  const names = [...new Set([...before.keys(), ...afterMap.keys()])].sort();
  const out: AuditRecord[] = [];
  for (const cluster of names) {
    const from = before.get(cluster) ?? 0;
    const to = afterMap.get(cluster)?.replicas ?? 0;
    if (from === to) continue;
    const mc = clusters.get(cluster);
    const source = to > from ? sources.get(cluster) : undefined;
    const holder = holderOf.get(cluster);
    const action = to > from ? (source ? AuditAction.AUDIT_ACTION_MOVED : AuditAction.AUDIT_ACTION_PLACED) : AuditAction.AUDIT_ACTION_EVICTED;
    const reasons = to > from
      ? (source ? [source.reason] : [])
      : holder && holder.state === "Evicted" ? [...holder.reasons] : holder && holder.state === "Lost" ? ["Failover"] : ["Rescheduled"];
    out.push({
      recordId: recordIdOf({ uid: ref.uid, cluster, from, to, basis }),
      action,
      workload: ref,
      generation: workload.metadata.generation ?? 0,
      cluster,
      country: countryOf(cluster),
      replicas: to,
      time: now,
      decidedBy,
      reasons,
      fromCluster: source?.from.cluster ?? "",
      facts: mc ? residencyFactsOf(mc) : undefined,
      residencyPolicy: workload.spec.residencyPolicy ?? "",
      requirements,
    });
  }
  return out;
}

const list = (ps: readonly Placement[]) => ps.map((p) => `${p.cluster}(${p.replicas})`).join(", ");

export function buildEvents({ plan, changed, holders, previousScheduled }: {
  plan: Plan;
  changed: boolean;
  holders: readonly Holder[];
  /** The Scheduled condition as last written, to report a new unschedulable state once. */
  previousScheduled: { status: string; reason: string } | undefined;
}): WorkloadEvent[] {
  const events: WorkloadEvent[] = [];
  for (const h of holders.filter((x) => x.state === "Evicted")) {
    events.push({ type: "Warning", reason: "PlacementRejected", message: `removed ${h.replicas} replicas from ${h.cluster}: ${h.reasons.join(", ")}` });
  }
  for (const f of plan.failedOver) {
    events.push({ type: "Warning", reason: "FailedOver", message: `${f.from.replicas} replicas of unreachable ${f.from.cluster} (${f.from.country}) re-placed on ${list(f.to)}` });
  }
  if (plan.scheduled && changed) events.push({ type: "Normal", reason: "Scheduled", message: plan.placements.length ? `placed on ${list(plan.placements)}` : "no replicas requested" });
  if (!plan.scheduled && (previousScheduled?.status !== "False" || previousScheduled.reason !== plan.reason)) {
    events.push({ type: "Warning", reason: "Unschedulable", message: `${plan.reason}: ${plan.message}` });
  }
  return events;
}
