/**
 * The plugin contract, after the kube-scheduler framework: a filter plugin compiles the
 * request once per decision (PreFilter) into a function over clusters (Filter); a
 * score plugin gives a number in 0..100 that only orders the eligible clusters, so no
 * score can ever make an ineligible cluster usable.
 */
import type { ClusterInfo } from "./cluster-info.ts";
import type { Reason } from "./reasons.ts";
import type { PlacementRequest } from "./types.ts";

export const MIN_SCORE = 0;
export const MAX_SCORE = 100;

export interface FilterContext {
  readonly request: PlacementRequest;
  /** Epoch milliseconds; the core never reads a clock. */
  readonly now: number;
}

/** The reasons this cluster fails; the shared empty array (reasons.PASS) when it passes. */
export type ClusterFilter = (cluster: ClusterInfo) => readonly Reason[];

export interface FilterPlugin {
  readonly name: string;
  /** Null when the request gives this plugin nothing to check (kube-scheduler's Skip). */
  prepare(ctx: FilterContext): ClusterFilter | null;
}

/** Which countries and regions the clusters chosen so far cover. */
export interface SelectionState {
  readonly size: number;
  readonly countries: ReadonlyMap<string, number>;
  readonly regions: ReadonlyMap<string, number>;
}

/** Where a cluster sits, for scores that depend on what is already chosen. */
export interface Locality {
  readonly country: string;
  /** country + "/" + region */
  readonly regionKey: string;
}

export type ClusterScorer =
  /** Depends on the cluster alone: computed once per decision. */
  | { readonly kind: "cluster"; score(cluster: ClusterInfo): number }
  /**
   * Depends on the cluster's locality and the selection so far: recomputed at each
   * pick, per locality, so it may read nothing else of the cluster.
   */
  | { readonly kind: "selection"; score(locality: Locality, selection: SelectionState): number };

export interface ScoreContext extends FilterContext {
  readonly eligible: readonly ClusterInfo[];
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
