import { ReasonBit, type FilterPlugin } from "../core/index.ts";
import { allowedIndexes, intersectAllowed } from "./allowed.ts";

/** `jurisdiction` must be in every non-empty `allowedJurisdictions` (policy and inline). */
export const jurisdiction: FilterPlugin = {
  name: "Jurisdiction",
  prepare: ({ request }) => {
    const allowed = intersectAllowed(request.constraints.map((c) => c.allowedJurisdictions));
    if (!allowed) return null;
    return ({ columns }, verdicts) => {
      const ok = allowedIndexes(columns.jurisdictions, allowed);
      const jurisdiction = columns.jurisdiction;
      for (let i = 0; i < jurisdiction.length; i++) if (ok[jurisdiction[i]!] === 0) verdicts[i]! |= ReasonBit.JurisdictionNotAllowed;
    };
  },
};
