import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS } from "../core/reasons.ts";

/** Any one constraint forbidding exposure is enough: the stricter side wins. */
export const exposure: FilterPlugin = {
  name: "ExtraterritorialExposure",
  prepare: ({ request }) => {
    if (!request.constraints.some((c) => c.forbidExtraterritorialExposure === true)) return null;
    return (cluster) => (cluster.view.extraterritorialExposure.length === 0 ? PASS : only.ExtraterritorialExposure);
  },
};
