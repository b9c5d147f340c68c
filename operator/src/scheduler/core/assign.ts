import { fitOf } from "./capacity.ts";
import type { ClusterInfo } from "./cluster-info.ts";
import { divideProportionally } from "./divide.ts";
import { clampScore, type ClusterScorer, type Locality, type ScorePlugin, type SelectionState } from "./framework.ts";
import { compareStrings } from "./order.ts";
import { DecisionReason, Reason, UnselectedReason } from "./reasons.ts";
import { selectClusters, type SelectionScore } from "./select.ts";
import { selectForCapacity } from "./select-capacity.ts";
import { keepCurrent } from "./stable.ts";
import type { SnapshotColumns } from "./snapshot.ts";
import { PlacementMode, type Placement, type PlacementRequest } from "./types.ts";

export type Assignment =
  | {
      readonly ok: true;
      readonly placements: Placement[];
      /** Indexes into `eligible` of the clusters used, ascending. */
      readonly chosen: readonly number[];
      /** Why the other eligible clusters were not used. */
      readonly unselectedAs: UnselectedReason;
    }
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

function prepareScores({ scores, request, now, eligible, fits }: {
  scores: readonly ScorePlugin[];
  request: PlacementRequest;
  now: number;
  eligible: readonly ClusterInfo[];
  fits: Float64Array;
}): { staticScores: Float64Array; selectionScore: SelectionScore } {
  const perSelection: { weight: number; scorer: Extract<ClusterScorer, { kind: "selection" }> }[] = [];
  const staticScores = new Float64Array(eligible.length);
  for (const plugin of scores) {
    const scorer = plugin.prepare({ request, now, eligible, fits });
    if (scorer.kind === "selection") {
      perSelection.push({ weight: plugin.weight, scorer });
      continue;
    }
    for (let i = 0; i < eligible.length; i++) staticScores[i]! += plugin.weight * clampScore(scorer.score(i));
  }
  return { staticScores, selectionScore: sumOf(perSelection) };
}

/** The weighted sum of the selection scores, specialised for the usual single plugin: it runs once per locality per pick. */
function sumOf(perSelection: readonly { weight: number; scorer: Extract<ClusterScorer, { kind: "selection" }> }[]): SelectionScore {
  if (perSelection.length === 0) return () => 0;
  if (perSelection.length === 1) {
    const { weight, scorer } = perSelection[0]!;
    return (l, s) => weight * clampScore(scorer.score(l, s));
  }
  return (l: Locality, s: SelectionState): number => {
    let total = 0;
    for (let i = 0; i < perSelection.length; i++) total += perSelection[i]!.weight * clampScore(perSelection[i]!.scorer.score(l, s));
    return total;
  };
}

/**
 * Chooses clusters among the eligible ones and gives each its replicas, or says why
 * that is impossible. It only ever sees eligible clusters: whatever it does, no replica
 * can land outside the filters.
 *
 * Divided: at most min(maxClusters, replicas) clusters, each gets one replica (so every
 * chosen cluster, and so every country the spread needs, is really used) and the rest
 * follow free capacity; equal shares when some chosen cluster's capacity is unknown.
 * The clusters are the best-scored ones when they can hold the replicas, else those
 * with the most room under maxClusters and spread (select-capacity.ts): so the workload
 * is InsufficientCapacity only when no allowed choice of clusters could hold it.
 * Duplicated: `replicas` in each of at most maxClusters clusters (the capacity filter
 * already dropped clusters that cannot hold them all).
 * Either way, the request's current clusters are kept while they still satisfy it
 * (stable.ts); scores only choose when they do not.
 */
export function assign({ request, eligible, scores, now, localities, columns }: {
  request: PlacementRequest;
  /** The snapshot's columns (free capacity is read from them). */
  columns: Pick<SnapshotColumns, "freePods" | "freeCpuMilli" | "freeMemoryBytes">;
  /** The snapshot's country and locality counts. */
  localities: { countries: number; regions: number };
  /** In name order. */
  eligible: readonly ClusterInfo[];
  scores: readonly ScorePlugin[];
  now: number;
}): Assignment {
  const replicas = request.replicas;
  // A workload scaled to zero is not an error: Scheduled, nothing placed, and no
  // spread or maxClusters to honour, since nothing runs anywhere. Its eligible
  // clusters are listed as unselected, so the decision still accounts for them.
  if (replicas <= 0) return { ok: true, placements: [], chosen: [], unselectedAs: UnselectedReason.NoReplicasLeft };
  const divided = request.mode === PlacementMode.Divided;
  const minCountries = Math.max(1, request.minCountries ?? 1);
  const maxClusters = request.maxClusters ?? Infinity;
  const count = Math.min(maxClusters, eligible.length, divided ? replicas : Infinity);
  // Which limit left eligible clusters out (when one did): replicas only binds below maxClusters.
  const unselectedAs = divided && replicas < Math.min(maxClusters, eligible.length) ? UnselectedReason.NoReplicasLeft : UnselectedReason.MaxClustersReached;

  // Plain loops and typed arrays below: this runs once per decision over up to every cluster.
  const seen = new Uint8Array(localities.countries);
  let countryCount = 0;
  for (let i = 0; i < eligible.length; i++) {
    const k = eligible[i]!.locality.countryIndex;
    if (seen[k] === 0) {
      seen[k] = 1;
      countryCount++;
    }
  }
  if (countryCount < minCountries) {
    const list = [...new Set(eligible.map((c) => c.country))].sort(compareStrings).join(", ");
    return spreadUnsatisfiable(`The eligible clusters span ${countryCount} ${countryCount === 1 ? "country" : "countries"} (${list}); spread.minCountries is ${minCountries}`);
  }
  if (maxClusters < minCountries) {
    return spreadUnsatisfiable(`At most ${maxClusters} cluster(s) (maxClusters) cannot cover ${minCountries} countries (spread.minCountries)`);
  }
  if (divided && replicas < minCountries) {
    return spreadUnsatisfiable(`${replicas} replica(s) cannot cover ${minCountries} countries (spread.minCountries)`);
  }

  const fits = new Float64Array(eligible.length);
  const { freePods, freeCpuMilli, freeMemoryBytes } = columns;
  const perReplica = request.perReplica;
  for (let i = 0; i < eligible.length; i++) {
    const k = eligible[i]!.index;
    fits[i] = fitOf({ pods: freePods[k]!, cpuMilli: freeCpuMilli[k]!, memoryBytes: freeMemoryBytes[k]!, perReplica });
  }
  const kept = keepCurrent({ current: request.current, eligible, fits, replicas, divided, maxClusters, minCountries });
  if (kept) {
    const placements = kept.chosen.map((i, k) => ({ cluster: eligible[i]!.name, country: eligible[i]!.country, replicas: kept.shares[k]! }));
    return { ok: true, placements, chosen: kept.chosen, unselectedAs: UnselectedReason.PlacementKept };
  }
  // When every eligible cluster is used, their order does not matter: skip scoring.
  const chosenIndexes =
    count >= eligible.length
      ? eligible.map((_, i) => i)
      : selectClusters({ eligible, count, minCountries, localities, ...prepareScores({ scores, request, now, eligible, fits }) });
  if (!divided) {
    return { ok: true, placements: chosenIndexes.map((i) => ({ cluster: eligible[i]!.name, country: eligible[i]!.country, replicas })), chosen: chosenIndexes, unselectedAs };
  }
  const preferred = divide({ replicas, chosenIndexes, fits });
  if (preferred) return { ok: true, placements: chosenIndexes.map((i, k) => ({ cluster: eligible[i]!.name, country: eligible[i]!.country, replicas: preferred[k]! })), chosen: chosenIndexes, unselectedAs };
  // The preferred clusters cannot hold the replicas, but other clusters within
  // maxClusters and spread may: scores only order the placements that work.
  const roomiest = selectForCapacity({ eligible, fits, count, minCountries });
  const shares = divide({ replicas, chosenIndexes: roomiest, fits });
  if (shares) return { ok: true, placements: roomiest.map((i, k) => ({ cluster: eligible[i]!.name, country: eligible[i]!.country, replicas: shares[k]! })), chosen: roomiest, unselectedAs };
  const room = roomiest.reduce((sum, i) => sum + fits[i]!, 0);
  const limit = count < eligible.length ? `The ${count} cluster(s) with the most room that may be used together` : `The ${count} eligible cluster(s)`;
  return {
    ok: false,
    reason: DecisionReason.InsufficientCapacity,
    rejectAs: Reason.InsufficientCapacity,
    detail: `${limit} have room for ${room} replica(s); ${replicas} are needed`,
  };
}

/**
 * Divided shares over chosen clusters: one replica each (so every chosen cluster, and so
 * every country the spread needs, is really used), the rest following free capacity;
 * equal weights when some chosen cluster's capacity is unknown. Null when they cannot
 * hold them all.
 */
function divide({ replicas, chosenIndexes, fits }: { replicas: number; chosenIndexes: readonly number[]; fits: Float64Array }): number[] | null {
  const caps = chosenIndexes.map((i) => fits[i]! - 1);
  const weights = caps.every(Number.isFinite) ? caps : caps.map(() => 1);
  const shares = divideProportionally({ total: replicas - chosenIndexes.length, weights, caps });
  return shares && shares.map((s) => 1 + s);
}
