import { ReasonBit, type FilterPlugin } from "../core/index.ts";

/** Any one constraint forbidding exposure is enough: the stricter side wins. */
export const exposure: FilterPlugin = {
  name: "ExtraterritorialExposure",
  prepare: ({ request }) => {
    if (!request.constraints.some((c) => c.forbidExtraterritorialExposure === true)) return null;
    return ({ columns: { exposed } }, verdicts) => {
      for (let i = 0; i < exposed.length; i++) if (exposed[i] === 1) verdicts[i]! |= ReasonBit.ExtraterritorialExposure;
    };
  },
};
