import { MAX_SCORE, type ScorePlugin } from "../core/index.ts";

/** What a cluster that has not reported capacity scores: usable, never preferred over known room. */
export const UNKNOWN_CAPACITY_SCORE = MAX_SCORE / 2;

/** Prefers the clusters with the most room for this pod shape, relative to the roomiest eligible one. */
export const freeCapacity: ScorePlugin = {
  name: "FreeCapacity",
  weight: 1,
  prepare: ({ fits }) => {
    let most = 0;
    for (const fit of fits) if (Number.isFinite(fit) && fit > most) most = fit;
    return {
      kind: "cluster",
      score: (index) => {
        const fit = fits[index]!;
        if (!Number.isFinite(fit)) return UNKNOWN_CAPACITY_SCORE;
        return most > 0 ? Math.floor((MAX_SCORE * fit) / most) : 0;
      },
    };
  },
};
