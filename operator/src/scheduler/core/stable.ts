import type { ClusterInfo } from "./cluster-info.ts";
import { divideProportionally } from "./divide.ts";
import type { CurrentPlacement } from "./types.ts";

/**
 * Stable placement: the workload's current clusters, kept when they still do the job,
 * so that a running workload is not reshuffled because an unrelated cluster joined or a
 * score moved (moving replicas costs restarts and, for residency audits, a record per
 * move). Null when the current set no longer satisfies the request: the caller then
 * decides afresh.
 *
 * Only eligible clusters can be kept (the filters have already run, and this only sees
 * `eligible`): stability never relaxes residency. The current set is kept when every
 * one of its clusters is eligible, it has at most `maxClusters` clusters covering at
 * least `minCountries` countries, and each cluster fits its share. In Divided mode a
 * change of `replicas` is spread over the same clusters, moving as few replicas as
 * possible: new ones go where there is room (in proportion to it), removed ones come
 * from the clusters holding the most, ties from the later by name (each keeps at least
 * one, so no kept cluster is emptied). Duplicated gives each kept cluster `replicas`.
 *
 * Returns indexes into `eligible` (ascending) and the replicas of each, index-aligned.
 */
export function keepCurrent({ current, eligible, fits, replicas, divided, maxClusters, minCountries }: {
  current: readonly CurrentPlacement[] | undefined;
  /** In name order. */
  eligible: readonly ClusterInfo[];
  /** Replicas that fit in each eligible cluster (Infinity: not reported), index-aligned. */
  fits: Float64Array;
  replicas: number;
  divided: boolean;
  maxClusters: number;
  minCountries: number;
}): { chosen: number[]; shares: number[] } | null {
  if (!current || current.length === 0 || replicas <= 0) return null;
  // Merged by name, so the order (or a repeated entry) in the caller's list cannot matter.
  const held = new Map<string, number>();
  for (const p of current) if (p.replicas > 0) held.set(p.cluster, (held.get(p.cluster) ?? 0) + p.replicas);
  if (held.size === 0 || held.size > maxClusters || (divided && held.size > replicas)) return null;

  const chosen: number[] = [];
  for (let i = 0; i < eligible.length && chosen.length < held.size; i++) if (held.has(eligible[i]!.name)) chosen.push(i);
  if (chosen.length < held.size) return null; // some current cluster is no longer eligible
  if (new Set(chosen.map((i) => eligible[i]!.locality.countryIndex)).size < minCountries) return null;

  if (!divided) return chosen.every((i) => fits[i]! >= replicas) ? { chosen, shares: chosen.map(() => replicas) } : null;

  const now = chosen.map((i) => held.get(eligible[i]!.name)!);
  if (now.some((n, k) => n > fits[chosen[k]!]!)) return null;
  const total = now.reduce((s, n) => s + n, 0);
  if (total === replicas) return { chosen, shares: now };
  if (total < replicas) {
    const room = chosen.map((i, k) => fits[i]! - now[k]!);
    const weights = room.every(Number.isFinite) ? room : room.map(() => 1);
    const added = divideProportionally({ total: replicas - total, weights, caps: room });
    return added && { chosen, shares: now.map((n, k) => n + added[k]!) };
  }
  // Reversed, so that a tie takes the replica from the later cluster: the earlier one by
  // name keeps at least as many, as a fresh division would give it.
  const spare = now.map((n) => n - 1).reverse();
  const removed = divideProportionally({ total: total - replicas, weights: spare, caps: spare })?.reverse();
  return removed ? { chosen, shares: now.map((n, k) => n - removed[k]!) } : null;
}
