import { ReasonBit, type FilterPlugin } from "../core/index.ts";
import { allowedIndexes, intersectAllowed } from "./allowed.ts";

/** `country` must be in every non-empty `allowedCountries` (policy and inline). */
export const country: FilterPlugin = {
  name: "Country",
  prepare: ({ request }) => {
    const allowed = intersectAllowed(request.constraints.map((c) => c.allowedCountries));
    if (!allowed) return null;
    return ({ columns }, verdicts) => {
      const ok = allowedIndexes(columns.countries, allowed);
      const country = columns.country;
      for (let i = 0; i < country.length; i++) if (ok[country[i]!] === 0) verdicts[i]! |= ReasonBit.CountryNotAllowed;
    };
  },
};
