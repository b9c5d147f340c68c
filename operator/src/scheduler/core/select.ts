import type { ClusterInfo } from "./cluster-info.ts";
import type { SelectionState } from "./framework.ts";
import type { Locality } from "./locality.ts";

/** Weighted sum of the scores that depend on the selection so far. */
export type SelectionScore = (locality: Locality, selection: SelectionState) => number;

/**
 * Picks `count` of the eligible clusters greedily by total score (static score plus the
 * selection-dependent one), first covering `minCountries` distinct countries (the
 * caller has checked that enough exist). Ties go to the earlier cluster, which is name
 * order. Clusters of one locality differ only by their static score, so each pick
 * compares one head per locality: O(count x localities), not O(count x clusters).
 *
 * Returns indexes into `eligible`, ascending (so in name order).
 */
export function selectClusters({ eligible, staticScores, count, minCountries, selectionScore, localities }: {
  /** In name order. */
  eligible: readonly ClusterInfo[];
  /** Index-aligned with `eligible`. */
  staticScores: Float64Array;
  count: number;
  minCountries: number;
  selectionScore: SelectionScore;
  /** How many countries and localities the snapshot has (ClusterInfo.locality indexes them). */
  localities: { countries: number; regions: number };
}): number[] {
  const n = eligible.length;
  if (count >= n) return Array.from({ length: n }, (_, i) => i);

  // The localities that have eligible clusters, and their members in name order.
  const groupOfRegion = new Int32Array(localities.regions).fill(-1);
  const groups: Locality[] = [];
  const members: number[][] = [];
  for (let i = 0; i < n; i++) {
    const locality = eligible[i]!.locality;
    let g = groupOfRegion[locality.regionIndex]!;
    if (g < 0) {
      g = groupOfRegion[locality.regionIndex] = groups.length;
      groups.push(locality);
      members.push([]);
    }
    members[g]!.push(i);
  }

  const taken = new Uint8Array(n);
  const bestOf = (g: number): number => {
    let best = -1;
    const list = members[g]!;
    for (let m = 0; m < list.length; m++) {
      const i = list[m]!;
      if (!taken[i] && (best < 0 || staticScores[i]! > staticScores[best]!)) best = i;
    }
    return best;
  };
  const heads = new Int32Array(groups.length);
  for (let g = 0; g < groups.length; g++) heads[g] = bestOf(g);

  const state = { size: 0, perCountry: new Int32Array(localities.countries), perRegion: new Int32Array(localities.regions) };
  let countriesCovered = 0;
  const chosen: number[] = [];
  while (chosen.length < count) {
    const needNewCountry = countriesCovered < minCountries;
    let best = -1;
    let bestGroup = -1;
    let bestTotal = -Infinity;
    for (let g = 0; g < groups.length; g++) {
      const head = heads[g]!;
      if (head < 0) continue;
      const locality = groups[g]!;
      if (needNewCountry && state.perCountry[locality.countryIndex]! > 0) continue;
      const total = staticScores[head]! + selectionScore(locality, state);
      if (total > bestTotal || (total === bestTotal && head < best)) {
        best = head;
        bestGroup = g;
        bestTotal = total;
      }
    }
    if (best < 0) break;
    taken[best] = 1;
    chosen.push(best);
    const locality = groups[bestGroup]!;
    if (state.perCountry[locality.countryIndex]! === 0) countriesCovered++;
    state.perCountry[locality.countryIndex]! += 1;
    state.perRegion[locality.regionIndex]! += 1;
    state.size++;
    heads[bestGroup] = bestOf(bestGroup);
  }
  return chosen.sort((a, b) => a - b);
}
