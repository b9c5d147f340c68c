/**
 * The plugin contract, after the kube-scheduler framework: a filter plugin compiles the
 * request once per decision (PreFilter) into a function over clusters (Filter); a
 * score plugin gives a number in 0..100 that only orders the eligible clusters, so no
 * score can ever make an ineligible cluster usable.
 *
 * A filter takes all the clusters at once, with the loop in the plugin's own code:
 * calling eight different plugin functions once per cluster from one call site costs
 * V8 a megamorphic dispatch each time, which at 1,000 clusters was most of a decision.
 */
import type { ClusterInfo } from "./cluster-info.ts";
import type { Snapshot } from "./snapshot.ts";
import type { Locality } from "./locality.ts";
import type { PlacementRequest } from "./types.ts";

export type { Locality } from "./locality.ts";

export const MIN_SCORE = 0;
export const MAX_SCORE = 100;

export interface FilterContext {
  readonly request: PlacementRequest;
  /** Epoch milliseconds; the core never reads a clock. */
  readonly now: number;
}

/**
 * Adds to `verdicts[i]` (a ReasonSet: ReasonBit.X | ...; the array is the plugin's own, zeroed) every reason the snapshot's
 * cluster `i` fails this plugin for; leaves it alone when the cluster passes.
 */
export type ClusterFilter = (snapshot: Snapshot, verdicts: Int32Array) => void;

export interface FilterPlugin {
  readonly name: string;
  /** Null when the request gives this plugin nothing to check (kube-scheduler's Skip). */
  prepare(ctx: FilterContext): ClusterFilter | null;
}

/**
 * How many of the clusters chosen so far are in each country and region, indexed by
 * Locality's indexes (typed arrays: this is read once per locality per pick).
 */
export interface SelectionState {
  readonly size: number;
  readonly perCountry: Int32Array;
  readonly perRegion: Int32Array;
}

export type ClusterScorer =
  /** Depends on the cluster alone (`index` into ScoreContext.eligible): computed once per decision. */
  | { readonly kind: "cluster"; score(index: number): number }
  /**
   * Depends on the cluster's locality and the selection so far: recomputed at each
   * pick, per locality, so it may read nothing else of the cluster.
   */
  | { readonly kind: "selection"; score(locality: Locality, selection: SelectionState): number };

export interface ScoreContext extends FilterContext {
  /** In name order. */
  readonly eligible: readonly ClusterInfo[];
  /** Replicas of the request that fit in each eligible cluster (Infinity: not reported), computed once. */
  readonly fits: Float64Array;
}

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  prepare(ctx: ScoreContext): ClusterScorer;
}

/** The plugins one decision runs, in order. Filter order is the order reasons are listed in. */
export interface Profile {
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly ScorePlugin[];
}

/** Scores are bounded whatever a plugin returns, so weights mean what they say. */
export function clampScore(score: number): number {
  return score > MAX_SCORE ? MAX_SCORE : score > MIN_SCORE ? score : MIN_SCORE;
}
