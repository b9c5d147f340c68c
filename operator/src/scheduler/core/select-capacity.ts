import type { ClusterInfo } from "./cluster-info.ts";

/**
 * Picks `count` of the eligible clusters so that together they hold as many replicas as
 * any `count` clusters covering `minCountries` distinct countries can: the fallback when
 * the score-ordered selection cannot hold `spec.replicas`, so that capacity pressure
 * never makes a workload unschedulable while some compliant placement exists.
 *
 * How: take each country's largest cluster (its "head"), keep the `minCountries` largest
 * heads (H), then fill the remaining `count - minCountries` slots with the largest of the
 * clusters left. "Largest" is by replicas that fit (Infinity, not reported, is largest),
 * ties to the earlier cluster, which is name order: the result is deterministic.
 *
 * Why no choice holds more. Let S be any `count` clusters covering `minCountries`
 * countries. In S, pick for `minCountries` of its countries the largest member of each
 * (R), choosing the countries so that R shares as many clusters with H as it can. Then
 * no cluster of H is in S without being in R: if one were, its country is not one of
 * R's (R's member for it would be that very head), and R could take it instead of a
 * member outside H, sharing one more. So each r in R but not in H can be swapped for a
 * distinct cluster of H outside S that is at least as large: the head of r's own country
 * when that head is in H (it is not in R, which has r for that country), otherwise any
 * other head of H (every head in H is at least as large as any cluster of a country whose
 * head is not). The swapped set has `count` clusters, contains H and holds no less than
 * S; being H plus `count - minCountries` others, it holds at most H plus the largest
 * others, which is this choice.
 *
 * Taking all `count` slots is best too: every eligible cluster fits at least one replica
 * in Divided mode (the Capacity filter), so adding a cluster never lowers the total.
 * The caller has checked that `minCountries <= count` and that enough countries exist.
 *
 * O(n log n); runs only when the preferred selection failed. Returns indexes into
 * `eligible`, ascending (so in name order).
 */
export function selectForCapacity({ eligible, fits, count, minCountries }: {
  /** In name order. */
  eligible: readonly ClusterInfo[];
  /** Replicas that fit in each eligible cluster (Infinity: not reported), index-aligned. */
  fits: Float64Array;
  count: number;
  minCountries: number;
}): number[] {
  const n = eligible.length;
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => largestFirst(fits[a]!, fits[b]!) || a - b);

  const taken = new Uint8Array(n);
  const chosen: number[] = [];
  // Walking in size order, the first cluster met of each country is its head, and the
  // heads are met largest first: the first `minCountries` heads met are H.
  const countrySeen = new Set<number>();
  for (let k = 0; k < n && chosen.length < minCountries; k++) {
    const i = order[k]!;
    const country = eligible[i]!.locality.countryIndex;
    if (countrySeen.has(country)) continue;
    countrySeen.add(country);
    taken[i] = 1;
    chosen.push(i);
  }
  for (let k = 0; k < n && chosen.length < count; k++) {
    const i = order[k]!;
    if (taken[i]) continue;
    taken[i] = 1;
    chosen.push(i);
  }
  return chosen.sort((a, b) => a - b);
}

/** Descending, with Infinity first; fits are never NaN (fitOf gives 0 for unreadable amounts). */
function largestFirst(a: number, b: number): number {
  return a === b ? 0 : a > b ? -1 : 1;
}
