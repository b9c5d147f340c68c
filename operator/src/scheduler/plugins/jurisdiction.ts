import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS } from "../core/reasons.ts";
import { intersectAllowed } from "./allowed.ts";

/** `jurisdiction` must be in every non-empty `allowedJurisdictions` (policy and inline). */
export const jurisdiction: FilterPlugin = {
  name: "Jurisdiction",
  prepare: ({ request }) => {
    const allowed = intersectAllowed(request.constraints.map((c) => c.allowedJurisdictions));
    if (!allowed) return null;
    return (cluster) => (allowed.has(cluster.view.jurisdiction) ? PASS : only.JurisdictionNotAllowed);
  },
};
