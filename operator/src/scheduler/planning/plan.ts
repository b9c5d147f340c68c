/**
 * Where the replicas go, given who holds them now. The rules (issue 8, item 6):
 * evicted clusters lose their replicas at once; held clusters keep exactly theirs; lost
 * replicas are re-placed within residency (in the same country when cross-border
 * failover is off) or stay where they are; an unschedulable decision never takes
 * replicas off a compliant cluster; a placement that still satisfies the request is
 * left alone.
 */
import { DecisionReason, type Decision, type Placement, type PlacementRequest, type Rejection } from "../core/index.ts";
import { HolderState, type Holder, type Replacement, type SubDecide } from "./types.ts";

/** Where the replicas go; the planning step turns it into a WorkloadDecision. */
export interface Plan {
  placements: Placement[];
  scheduled: boolean;
  reason: DecisionReason;
  message: string;
  failedOver: Replacement[];
  replaced: Replacement[];
  /** Rejections of the last decision taken, when one was. */
  rejected?: readonly Rejection[];
  /** False when the previous placement was kept as it was, without asking the scheduler. */
  decided: boolean;
}

const byName = (a: { cluster: string }, b: { cluster: string }) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0);

export function merge(...lists: readonly (readonly Placement[])[]): Placement[] {
  const out = new Map<string, Placement>();
  for (const list of lists) {
    for (const p of list) {
      if (p.replicas <= 0) continue;
      const had = out.get(p.cluster);
      out.set(p.cluster, had ? { ...had, replicas: had.replicas + p.replicas } : { cluster: p.cluster, country: p.country, replicas: p.replicas });
    }
  }
  return [...out.values()].sort(byName);
}

const total = (ps: readonly { replicas: number }[]) => ps.reduce((n, p) => n + p.replicas, 0);

/** Why `placements` does not meet `request`, or undefined when it does. */
export function unmet(placements: readonly Placement[], request: PlacementRequest): { reason: DecisionReason; message: string } | undefined {
  if (request.replicas === 0) return placements.length === 0 ? undefined : { reason: DecisionReason.Scheduled, message: "scaled to zero" };
  if (placements.length === 0) return { reason: DecisionReason.NoCompliantCluster, message: "no replica is placed" };
  if (request.mode === "Divided" && total(placements) !== request.replicas) {
    return { reason: DecisionReason.InsufficientCapacity, message: `${total(placements)} of ${request.replicas} replicas placed` };
  }
  if (request.mode === "Duplicated" && placements.some((p) => p.replicas !== request.replicas)) {
    return { reason: DecisionReason.InsufficientCapacity, message: `not every cluster runs ${request.replicas} replicas` };
  }
  if (request.maxClusters !== undefined && placements.length > request.maxClusters) {
    return { reason: DecisionReason.SpreadUnsatisfiable, message: `${placements.length} clusters used, maxClusters is ${request.maxClusters}` };
  }
  const countries = new Set(placements.map((p) => p.country)).size;
  if (request.minCountries !== undefined && countries < request.minCountries) {
    return { reason: DecisionReason.SpreadUnsatisfiable, message: `${countries} countries used, spread.minCountries is ${request.minCountries}` };
  }
  return undefined;
}

/**
 * What is left after an unschedulable decision: the compliant holders' replicas, cut
 * down only as far as the user asked (a scale-down), taking from clusters that are up
 * before touching one that is merely unreachable.
 */
export function trimTo(placements: readonly Placement[], request: PlacementRequest, pinned: ReadonlySet<string>): Placement[] {
  if (request.mode === "Duplicated") return merge(placements.map((p) => ({ ...p, replicas: Math.min(p.replicas, request.replicas) })));
  const out = placements.map((p) => ({ ...p }));
  let excess = total(out) - request.replicas;
  // Up clusters first, the largest first, then by name, so the result is deterministic.
  const order = [...out].sort((a, b) => Number(pinned.has(a.cluster)) - Number(pinned.has(b.cluster)) || b.replicas - a.replicas || byName(a, b));
  while (excess > 0) {
    const target = order.find((p) => p.replicas > 0);
    if (!target) break;
    const take = Math.min(excess, target.replicas);
    target.replicas -= take;
    excess -= take;
    order.push(order.shift()!);
  }
  return merge(out);
}

function subRequest(request: PlacementRequest, params: { replicas: number; maxClusters?: number; minCountries?: number; extraCountry?: string }): PlacementRequest {
  const { maxClusters: _m, minCountries: _c, ...rest } = request;
  return {
    ...rest,
    replicas: params.replicas,
    ...(params.maxClusters !== undefined ? { maxClusters: Math.max(1, params.maxClusters) } : {}),
    ...(params.minCountries !== undefined && params.minCountries > 1 ? { minCountries: params.minCountries } : {}),
    // An extra constraint only narrows: the core intersects every entry.
    constraints: params.extraCountry ? [...request.constraints, { allowedCountries: [params.extraCountry] }] : request.constraints,
  };
}

interface Group {
  kind: "evicted" | "lost";
  holders: Holder[];
  country?: string;
}

export function plan({ request, holders, crossBorderFailover, decide }: {
  request: PlacementRequest;
  holders: readonly Holder[];
  crossBorderFailover: boolean;
  decide: SubDecide;
}): Plan {
  const of = (state: HolderState) => holders.filter((h) => h.state === state);
  const kept = of(HolderState.Kept);
  const held = of(HolderState.Held);
  const lost = of(HolderState.Lost);
  const evicted = of(HolderState.Evicted);
  const pinned = new Set(held.map((h) => h.cluster));
  const staying = merge(kept, held);
  const base = { failedOver: [], replaced: [] };

  if (lost.length === 0 && evicted.length === 0) {
    if (holders.length > 0 && !unmet(staying, request)) {
      return { ...base, placements: staying, scheduled: true, reason: DecisionReason.Scheduled, message: "placement unchanged: every cluster holding replicas is still eligible", decided: false };
    }
    // The request changed (scale, spread, caps), or nothing is placed yet: decide
    // everything but what unreachable clusters hold, which stays exactly as it is.
    const sub = request.mode === "Divided"
      ? subRequest(request, { replicas: Math.max(0, request.replicas - total(held)), ...caps(request, held.length, held) })
      : subRequest(request, { replicas: request.replicas, ...caps(request, held.length, held) });
    const decision = decide({ request: sub, exclude: pinned, current: kept });
    const placements = decision.scheduled ? merge(held, decision.placements) : [];
    const missing = decision.scheduled ? unmet(placements, request) : { reason: decision.reason, message: decision.message };
    if (!missing) return { ...base, placements, scheduled: true, reason: DecisionReason.Scheduled, message: decision.message, rejected: decision.rejected, decided: true };
    return {
      ...base,
      placements: trimTo(staying, request, pinned),
      scheduled: request.replicas === 0 && staying.length === 0,
      reason: missing.reason,
      message: missing.message,
      rejected: decision.rejected,
      decided: true,
    };
  }

  // Replacements for evicted and lost replicas; everything else stays put.
  const groups: Group[] = [];
  if (evicted.length > 0) groups.push({ kind: "evicted", holders: evicted });
  if (lost.length > 0) {
    if (crossBorderFailover) groups.push({ kind: "lost", holders: lost });
    else for (const country of [...new Set(lost.map((h) => h.country))].sort()) groups.push({ kind: "lost", holders: lost.filter((h) => h.country === country), country });
  }
  const unusable = new Set([...lost, ...evicted, ...held].map((h) => h.cluster));
  const everyHolder = new Set(holders.map((h) => h.cluster));
  // A scale-down at the same time as an eviction or a failover: what stays is first cut to
  // what the user now asks, and replacements make up only the difference.
  let placements = trimTo(staying, request, pinned);
  const failedOver: Plan["failedOver"] = [];
  const replaced: Plan["replaced"] = [];
  const stayingLost: Holder[] = [];
  let failure: { reason: DecisionReason; message: string } | undefined;
  let rejected: readonly Rejection[] | undefined;

  for (const [g, group] of groups.entries()) {
    const used = new Set(placements.map((p) => p.cluster));
    // Divided: never more than the request, counting the unreachable replicas of later
    // groups, which stay where they are if nothing can take them.
    // The last group also makes up a scale-up that came with the change.
    const laterLost = total(groups.slice(g + 1).flatMap((x) => x.holders));
    const need = Math.max(0, request.replicas - total(placements) - laterLost);
    const wanted = g === groups.length - 1 ? need : Math.min(total(group.holders), need);
    if (request.mode === "Divided" && wanted === 0) continue;
    const sub = request.mode === "Divided"
      ? subRequest(request, {
        replicas: wanted,
        ...(request.maxClusters !== undefined ? { maxClusters: request.maxClusters - used.size } : {}),
        ...(group.country ? { extraCountry: group.country } : {}),
      })
      : subRequest(request, { replicas: request.replicas, maxClusters: group.holders.length, ...(group.country ? { extraCountry: group.country } : {}) });
    // A Duplicated copy needs a cluster that has none yet.
    const exclude = request.mode === "Duplicated" ? new Set([...unusable, ...everyHolder, ...used]) : unusable;
    const decision: Decision = decide({ request: sub, exclude, current: [] });
    rejected = decision.rejected;
    const complete = decision.scheduled && (request.mode === "Divided" ? total(decision.placements) === sub.replicas : decision.placements.length === group.holders.length);
    if (complete) {
      placements = merge(placements, decision.placements);
      for (const [i, h] of group.holders.entries()) {
        const to = request.mode === "Divided" ? decision.placements : [decision.placements[i]!];
        (group.kind === "lost" ? failedOver : replaced).push({ from: h, to });
      }
      continue;
    }
    failure ??= {
      reason: decision.scheduled ? DecisionReason.InsufficientCapacity : decision.reason === DecisionReason.NoCompliantCluster ? DecisionReason.NoCompliantCluster : decision.reason,
      message: group.kind === "lost"
        ? `no compliant cluster can take the ${total(group.holders)} replicas of unreachable ${group.holders.map((h) => h.cluster).join(", ")}${group.country ? ` in ${group.country}` : ""}; they stay where they are: ${decision.message}`
        : `the replicas of ${group.holders.map((h) => h.cluster).join(", ")} were removed (no longer compliant) and no compliant cluster can take them: ${decision.message}`,
    };
    // Never deleted for lack of a replacement (karmada#7455): unreachable replicas stay.
    if (group.kind === "lost") stayingLost.push(...group.holders);
  }
  placements = merge(placements, stayingLost);

  const missing = unmet(placements, request);
  if (missing && failedOver.length > 0) {
    // Moving lost replicas would break the request (spread, caps): they stay instead.
    const back = merge(staying, stayingLost, ...failedOver.map((f) => [f.from]), ...replaced.map((r) => r.to));
    return { placements: back, failedOver: [], replaced, scheduled: false, reason: failure?.reason ?? missing.reason, message: failure?.message ?? missing.message, ...(rejected ? { rejected } : {}), decided: true };
  }
  const outcome = failure ?? missing;
  return {
    placements,
    failedOver,
    replaced,
    scheduled: outcome === undefined,
    reason: outcome?.reason ?? DecisionReason.Scheduled,
    message: outcome?.message ?? `${failedOver.length + replaced.length} cluster(s) replaced within residency`,
    ...(rejected ? { rejected } : {}),
    decided: true,
  };
}

/** maxClusters and minCountries left for a decision about the clusters that are not pinned. */
function caps(request: PlacementRequest, pinnedCount: number, pinned: readonly Holder[]): { maxClusters?: number; minCountries?: number } {
  const pinnedCountries = new Set(pinned.map((h) => h.country)).size;
  return {
    ...(request.maxClusters !== undefined ? { maxClusters: request.maxClusters - pinnedCount } : {}),
    ...(request.minCountries !== undefined ? { minCountries: pinnedCount === 0 ? request.minCountries : Math.max(1, request.minCountries - pinnedCountries) } : {}),
  };
}
