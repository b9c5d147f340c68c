import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS } from "../core/reasons.ts";

/** A cluster whose heartbeats are not fresh cannot be trusted to run anything. */
export const readiness: FilterPlugin = {
  name: "Readiness",
  prepare: () => (cluster) => (cluster.view.ready ? PASS : only.NotReady),
};
