import type { ClusterInfo } from "./cluster-info.ts";
import type { Locality, SelectionState } from "./framework.ts";

export interface Candidate {
  readonly info: ClusterInfo;
  /** Weighted sum of the scores that depend on the cluster alone. */
  readonly staticScore: number;
  /** Replicas that fit (Infinity when capacity is unknown). */
  readonly fit: number;
}

/** Weighted sum of the scores that depend on the selection so far. */
export type SelectionScore = (locality: Locality, selection: SelectionState) => number;

interface Group {
  readonly locality: Locality;
  /** Best first: static score descending, then name. */
  readonly members: Candidate[];
  next: number;
}

function betterFirst(a: Candidate, b: Candidate): number {
  return b.staticScore - a.staticScore || (a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : 0);
}

/**
 * Picks `count` clusters greedily by total score, first covering `minCountries`
 * distinct countries (the caller has checked that enough exist). Clusters of one
 * locality differ only by their static score, so each pick compares one head per
 * locality: O(count x localities), not O(count x clusters).
 */
export function selectClusters({ candidates, count, minCountries, selectionScore }: {
  candidates: readonly Candidate[];
  count: number;
  minCountries: number;
  selectionScore: SelectionScore;
}): Candidate[] {
  const groups = new Map<string, Group>();
  for (const c of candidates) {
    let g = groups.get(c.info.regionKey);
    if (!g) {
      g = { locality: { country: c.info.view.country, regionKey: c.info.regionKey }, members: [], next: 0 };
      groups.set(c.info.regionKey, g);
    }
    g.members.push(c);
  }
  const groupList = [...groups.values()];
  for (const g of groupList) g.members.sort(betterFirst);

  const countries = new Map<string, number>();
  const regions = new Map<string, number>();
  const state = { size: 0, countries, regions };
  const chosen: Candidate[] = [];
  while (chosen.length < count) {
    const needNewCountry = countries.size < minCountries;
    let best: Candidate | undefined;
    let bestGroup: Group | undefined;
    let bestTotal = -Infinity;
    for (const g of groupList) {
      const head = g.members[g.next];
      if (!head || (needNewCountry && countries.has(g.locality.country))) continue;
      const total = head.staticScore + selectionScore(g.locality, state);
      if (total > bestTotal || (total === bestTotal && best !== undefined && head.info.name < best.info.name)) {
        best = head;
        bestGroup = g;
        bestTotal = total;
      }
    }
    if (!best || !bestGroup) break;
    bestGroup.next++;
    chosen.push(best);
    countries.set(bestGroup.locality.country, (countries.get(bestGroup.locality.country) ?? 0) + 1);
    regions.set(bestGroup.locality.regionKey, (regions.get(bestGroup.locality.regionKey) ?? 0) + 1);
    state.size++;
  }
  return chosen;
}
