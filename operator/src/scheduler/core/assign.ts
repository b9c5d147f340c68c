import { replicasThatFit } from "./capacity.ts";
import type { ClusterInfo } from "./cluster-info.ts";
import { divideProportionally } from "./divide.ts";
import { clampScore, type ClusterScorer, type Locality, type ScorePlugin, type SelectionState } from "./framework.ts";
import { byName, compareStrings } from "./order.ts";
import { DecisionReason, Reason } from "./reasons.ts";
import { selectClusters, type Candidate } from "./select.ts";
import { PlacementMode, type Placement, type PlacementRequest } from "./types.ts";

export type Assignment =
  | { readonly ok: true; readonly placements: Placement[] }
  | {
      readonly ok: false;
      readonly reason: typeof DecisionReason.SpreadUnsatisfiable | typeof DecisionReason.InsufficientCapacity;
      /** What every eligible cluster is then rejected with. */
      readonly rejectAs: typeof Reason.SpreadUnsatisfiable | typeof Reason.InsufficientCapacity;
      /** A sentence, capitalised, without the final period. */
      readonly detail: string;
    };

function spreadUnsatisfiable(detail: string): Assignment {
  return { ok: false, reason: DecisionReason.SpreadUnsatisfiable, rejectAs: Reason.SpreadUnsatisfiable, detail };
}

function countriesOf(clusters: readonly ClusterInfo[]): string[] {
  return [...new Set(clusters.map((c) => c.view.country))].sort(compareStrings);
}

function prepareScores({ scores, request, now, eligible }: {
  scores: readonly ScorePlugin[];
  request: PlacementRequest;
  now: number;
  eligible: readonly ClusterInfo[];
}): { candidates: Candidate[]; selectionScore: (l: Locality, s: SelectionState) => number } {
  const perCluster: { weight: number; scorer: Extract<ClusterScorer, { kind: "cluster" }> }[] = [];
  const perSelection: { weight: number; scorer: Extract<ClusterScorer, { kind: "selection" }> }[] = [];
  for (const plugin of scores) {
    const scorer = plugin.prepare({ request, now, eligible });
    if (scorer.kind === "cluster") perCluster.push({ weight: plugin.weight, scorer });
    else perSelection.push({ weight: plugin.weight, scorer });
  }
  const candidates = eligible.map((info): Candidate => {
    let staticScore = 0;
    for (const { weight, scorer } of perCluster) staticScore += weight * clampScore(scorer.score(info));
    return { info, staticScore, fit: replicasThatFit(info.view.free, request.perReplica) };
  });
  const selectionScore = (l: Locality, s: SelectionState): number => {
    let total = 0;
    for (const { weight, scorer } of perSelection) total += weight * clampScore(scorer.score(l, s));
    return total;
  };
  return { candidates, selectionScore };
}

/**
 * Chooses clusters among the eligible ones and gives each its replicas, or says why
 * that is impossible. It only ever sees eligible clusters: whatever it does, no replica
 * can land outside the filters.
 *
 * Divided: at most min(maxClusters, replicas) clusters, each gets one replica (so every
 * chosen cluster, and so every country the spread needs, is really used) and the rest
 * follow free capacity; equal shares when some chosen cluster's capacity is unknown.
 * Duplicated: `replicas` in each of at most maxClusters clusters (the capacity filter
 * already dropped clusters that cannot hold them all).
 */
export function assign({ request, eligible, scores, now }: {
  request: PlacementRequest;
  /** In name order. */
  eligible: readonly ClusterInfo[];
  scores: readonly ScorePlugin[];
  now: number;
}): Assignment {
  const replicas = request.replicas;
  if (replicas <= 0) return { ok: true, placements: [] };
  const divided = request.mode === PlacementMode.Divided;
  const minCountries = Math.max(1, request.minCountries ?? 1);
  const maxClusters = request.maxClusters ?? Infinity;
  const count = Math.min(maxClusters, eligible.length, divided ? replicas : Infinity);

  const countries = countriesOf(eligible);
  if (countries.length < minCountries) {
    return spreadUnsatisfiable(
      `The eligible clusters span ${countries.length} ${countries.length === 1 ? "country" : "countries"} (${countries.join(", ")}); spread.minCountries is ${minCountries}`,
    );
  }
  if (maxClusters < minCountries) {
    return spreadUnsatisfiable(`At most ${maxClusters} cluster(s) (maxClusters) cannot cover ${minCountries} countries (spread.minCountries)`);
  }
  if (divided && replicas < minCountries) {
    return spreadUnsatisfiable(`${replicas} replica(s) cannot cover ${minCountries} countries (spread.minCountries)`);
  }

  const { candidates, selectionScore } = prepareScores({ scores, request, now, eligible });
  const chosen = selectClusters({ candidates, count, minCountries, selectionScore }).sort((a, b) => byName(a.info, b.info));

  if (!divided) {
    return { ok: true, placements: chosen.map((c) => ({ cluster: c.info.name, country: c.info.view.country, replicas })) };
  }
  const rest = replicas - chosen.length;
  const caps = chosen.map((c) => c.fit - 1);
  const weights = caps.every(Number.isFinite) ? caps : caps.map(() => 1);
  const shares = divideProportionally({ total: rest, weights, caps });
  if (!shares) {
    const room = chosen.reduce((sum, c) => sum + c.fit, 0);
    return {
      ok: false,
      reason: DecisionReason.InsufficientCapacity,
      rejectAs: Reason.InsufficientCapacity,
      detail: `The ${chosen.length} cluster(s) that may be used have room for ${room} replica(s); ${replicas} are needed`,
    };
  }
  return {
    ok: true,
    placements: chosen.map((c, i) => ({ cluster: c.info.name, country: c.info.view.country, replicas: 1 + shares[i]! })),
  };
}
