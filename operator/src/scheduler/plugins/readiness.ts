import { ReasonBit, type FilterPlugin } from "../core/index.ts";

/** A cluster whose heartbeats are not fresh cannot be trusted to run anything. */
export const readiness: FilterPlugin = {
  name: "Readiness",
  prepare: () => ({ columns: { ready } }, verdicts) => {
    for (let i = 0; i < ready.length; i++) if (ready[i] === 0) verdicts[i]! |= ReasonBit.NotReady;
  },
};
