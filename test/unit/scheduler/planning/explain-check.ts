// The property behind explain.property.test.ts (kept apart so that a mutation run can
// replay it under many seeds). Explain says exactly what the controller does, over generated federations with NotReady
// holders inside and past their toleration, certifications expiring, exposures declared,
// policies tightened, spread and maxClusters, Divided and Duplicated; and what both say
// keeps residency under failover, judged from the generated facts (world.ts), not by the
// scheduler's own filters.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ClusterPlacement, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { desired } from "../../../../operator/src/controllers/workload/desired.ts";
import type { DesiredState } from "../../../../operator/src/controllers/workload/types.ts";
import { explainHandler } from "../../../../operator/src/federation/grpc/decisions.ts";
import type { Decision as DecisionMessage } from "../../../../operator/src/gen/sovereign/v1/federation.ts";
import { SchedulerCache, workloadKey, type Lister } from "../../../../operator/src/scheduler/index.ts";
import {
  AFTER, BEFORE, calm, clusterAt, clusterFacts, compliantAfter, lostAfter, nameOf, otherFacts, othersOf, policyAt, workloadFacts, workloadOf,
  type ClusterFacts, type Country,
} from "./world.ts";

/** Enough that the residency mutants of the planning (residency.test.ts) fail this property every time. */
export const RUNS = 1_000;

const listerOf = <T>(items: readonly T[], key: (t: T) => string): Lister<T> => {
  const byKey = new Map(items.map((t) => [key(t), t]));
  return { list: () => [...byKey.values()], get: (k) => byKey.get(k) };
};

/** The workload controller's desired step, fed as the reconciler feeds it: the scheduler cache over the informers' objects. */
function controller({ workload, policy, clusters, workloads, now }: {
  workload: SovereignWorkload; policy: ResidencyPolicy; clusters: MemberCluster[]; workloads: SovereignWorkload[]; now: number;
}): DesiredState {
  const cache = new SchedulerCache({
    clusters: listerOf(clusters, (c) => c.metadata.name), policies: listerOf([policy], (p) => p.metadata.name), workloads: listerOf(workloads, workloadKey),
  });
  return desired({
    workload, policy, clusters, reports: new Map(), used: cache.usedByOthers({ workload: workloadKey(workload), now }),
    now: new Date(now), decidedBy: "control-plane/test", removalAcknowledged: new Set(),
  });
}

/** gRPC Explain's server entry, over a host that holds these objects. */
async function explain({ workload, policy, clusters, workloads, now }: {
  workload: SovereignWorkload; policy: ResidencyPolicy; clusters: MemberCluster[]; workloads: SovereignWorkload[]; now: number;
}): Promise<DecisionMessage> {
  const host = {
    getSovereignWorkload: async (namespace: string, name: string) => workloads.find((w) => w.metadata.namespace === namespace && w.metadata.name === name),
    listMemberClusters: async () => clusters,
    listResidencyPolicies: async () => [policy],
    listSovereignWorkloads: async () => workloads,
  };
  const clock = { now: () => new Date(now), sleep: async () => undefined };
  const res = await explainHandler({ host, clock })({ namespace: workload.metadata.namespace!, name: workload.metadata.name, now: new Date(now) });
  return res.decision!;
}

const general = fc.record({
  clusters: fc.array(clusterFacts, { minLength: 2, maxLength: 7 }),
  workload: workloadFacts,
  /** Half the worlds change only in readiness: failover alone, then failover with residency changes. */
  calm: fc.boolean(),
  others: fc.array(otherFacts, { maxLength: 2 }),
  /** Instead of where BEFORE's decision put them, replicas wherever (a status from an older, other world). */
  arbitrary: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: fc.array(fc.record({ i: fc.nat(), replicas: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 4 }), weight: 1 },
  ),
});

/**
 * Failover kept within borders, where residency mistakes hide: several countries allowed,
 * crossBorderFailover false, a cap that leaves clusters free, and replicas placed by the
 * controller. A random world reaches this corner about once in 400 runs.
 */
const withinBorders = general.map((s) => ({
  ...s,
  calm: true,
  arbitrary: undefined,
  workload: {
    ...s.workload,
    policyCountries: ["FR", "DE", "IT"] as Country[],
    inlineCountries: undefined,
    crossBorder: s.workload.crossBorder === "true" ? ("policy-false" as const) : s.workload.crossBorder,
    failoverEnabled: true,
    maxClusters: s.workload.maxClusters ?? 2,
  },
}));

export const scenario = fc.oneof(general, withinBorders);
export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

export interface Checked {
  /** Steps where replicas of an unreachable cluster were failed over with crossBorderFailover false. */
  sameCountryFailovers: number;
  /** Steps where a compliant NotReady cluster within its toleration held replicas. */
  held: number;
}

export async function check(generated: Scenario, counts: Checked): Promise<void> {
  const s = generated.calm ? { ...generated, ...calm(generated) } : generated;
  const w = s.workload;
  const facts = new Map(s.clusters.map((f, i) => [nameOf(f, i), f]));
  const others = othersOf(s.others, s.clusters);

  // BEFORE: where the controller placed the workload (or an arbitrary status).
  const clustersBefore = s.clusters.map((f, i) => clusterAt(f, i, w, "before"));
  const first = controller({ workload: workloadOf(w), policy: policyAt(w, "before"), clusters: clustersBefore, workloads: [workloadOf(w), ...others], now: BEFORE });
  const placed: ClusterPlacement[] = s.arbitrary
    ? [...new Map(s.arbitrary.map((p) => [p.i % s.clusters.length, p.replicas]))].map(([i, replicas]) => ({ cluster: nameOf(s.clusters[i]!, i), country: s.clusters[i]!.country, replicas }))
    : first.placements.map((p) => ({ cluster: p.cluster, country: p.country as ClusterPlacement["country"], replicas: p.replicas }));

  // AFTER: the world has changed; the controller and Explain see the same objects.
  const workload = workloadOf(w, placed);
  const world = { workload, policy: policyAt(w, "after"), clusters: s.clusters.map((f, i) => clusterAt(f, i, w, "after")), workloads: [workload, ...others], now: AFTER };
  const state = controller(world);
  const explained = await explain(world);

  // 1. Explain is the controller's answer.
  assert.deepEqual(explained.placements, state.placements.map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas })), "placements");
  const scheduled = state.status.conditions?.find((c) => c.type === "Scheduled");
  assert.equal(explained.scheduled, scheduled?.status === "True", "scheduled");
  assert.equal(explained.reason, scheduled?.reason, "reason");
  assert.equal(explained.message, scheduled?.message, "message");
  assert.deepEqual(explained.rejected.map((r) => ({ cluster: r.cluster, reasons: r.reasons })), state.status.rejectedClusters ?? [], "rejected clusters");
  const accounted = [...explained.placements, ...explained.rejected, ...explained.unselected].map((c) => c.cluster).sort();
  assert.deepEqual(accounted, [...facts.keys()].sort(), "every cluster once");

  // 2. Residency first: never a replica on a cluster that may not hold the workload.
  for (const p of state.placements) assert.ok(compliantAfter(facts.get(p.cluster)!, w), `${p.cluster} holds ${p.replicas} replicas but may not hold the workload`);

  // 3. Then availability: a compliant NotReady holder within its toleration keeps exactly its replicas.
  const holding = placed.filter((p) => p.replicas > 0);
  for (const p of s.arbitrary ? [] : holding) {
    const f = facts.get(p.cluster)!;
    if (f.later === "ready" || lostAfter(f, w) || !compliantAfter(f, w)) continue;
    counts.held++;
    const kept = state.placements.find((x) => x.cluster === p.cluster)?.replicas;
    // A Duplicated copy is never more than the request; Divided: the request did not shrink.
    assert.equal(kept, w.mode === "Duplicated" ? Math.min(p.replicas, w.replicas) : p.replicas, `${p.cluster} is within its toleration`);
  }

  // 4. crossBorderFailover false: the replicas of an unreachable cluster stay in its country.
  // Judged on a placement the controller made (the request is met), with nothing evicted,
  // so every new cluster can only be a failover target.
  const lost = holding.filter((p) => lostAfter(facts.get(p.cluster)!, w) && compliantAfter(facts.get(p.cluster)!, w));
  const evicted = holding.some((p) => !compliantAfter(facts.get(p.cluster)!, w));
  const scheduledBefore = first.status.conditions?.find((c) => c.type === "Scheduled")?.status === "True";
  if (w.crossBorder !== "true" && !s.arbitrary && scheduledBefore && !evicted && lost.length > 0) {
    const countries = new Set(lost.map((p) => p.country));
    const fresh = state.placements.filter((p) => !holding.some((h) => h.cluster === p.cluster));
    if (fresh.length > 0) counts.sameCountryFailovers++;
    for (const p of fresh) assert.ok(countries.has(p.country as ClusterFacts["country"]), `${p.cluster} (${p.country}) took replicas of unreachable ${lost.map((l) => `${l.cluster} (${l.country})`).join(", ")}`);
  }
}

