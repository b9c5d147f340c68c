import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS } from "../core/reasons.ts";
import { intersectAllowed } from "./allowed.ts";

/** `country` must be in every non-empty `allowedCountries` (policy and inline). */
export const country: FilterPlugin = {
  name: "Country",
  prepare: ({ request }) => {
    const allowed = intersectAllowed(request.constraints.map((c) => c.allowedCountries));
    if (!allowed) return null;
    return (cluster) => (allowed.has(cluster.view.country) ? PASS : only.CountryNotAllowed);
  },
};
