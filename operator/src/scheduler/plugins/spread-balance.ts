import { MAX_SCORE, type ScorePlugin } from "../core/index.ts";

/**
 * Prefers countries, then regions, that the clusters chosen so far cover least, so
 * that a workload allowed in several countries does not pile into one by default.
 */
export const spreadBalance: ScorePlugin = {
  name: "SpreadBalance",
  weight: 1,
  prepare: () => ({
    kind: "selection",
    score: (locality, selection) => {
      if (selection.size === 0) return MAX_SCORE;
      const inCountry = selection.perCountry[locality.countryIndex] ?? 0;
      const inRegion = selection.perRegion[locality.regionIndex] ?? 0;
      return Math.round((MAX_SCORE / 2) * (2 - inCountry / selection.size - inRegion / selection.size));
    },
  }),
};
