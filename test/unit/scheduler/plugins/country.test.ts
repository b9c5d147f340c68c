import assert from "node:assert/strict";
import type { ResidencyConstraints } from "../../../../operator/src/scheduler/index.ts";
import { country } from "../../../../operator/src/scheduler/plugins/country.ts";
import { cluster, request, runFilter } from "../builders.ts";

describe("Country filter", () => {
  const cases: { name: string; country: string; constraints: ResidencyConstraints[]; want: string[] | null }[] = [
    { name: "skips when nothing constrains countries", country: "US", constraints: [], want: null },
    { name: "skips when the lists are empty (empty means no constraint)", country: "US", constraints: [{ allowedCountries: [] }, {}], want: null },
    { name: "passes a country on the list", country: "FR", constraints: [{ allowedCountries: ["FR", "DE"] }], want: [] },
    { name: "rejects a country off the list", country: "NL", constraints: [{ allowedCountries: ["FR", "DE"] }], want: ["CountryNotAllowed"] },
    { name: "compares codes exactly (fail closed on case)", country: "fr", constraints: [{ allowedCountries: ["FR"] }], want: ["CountryNotAllowed"] },
    { name: "passes a country on both the policy's and the inline list", country: "DE", constraints: [{ allowedCountries: ["FR", "DE"] }, { allowedCountries: ["DE"] }], want: [] },
    { name: "rejects a country the policy allows but the inline list does not", country: "FR", constraints: [{ allowedCountries: ["FR", "DE"] }, { allowedCountries: ["DE"] }], want: ["CountryNotAllowed"] },
    { name: "rejects everything when the lists have nothing in common", country: "FR", constraints: [{ allowedCountries: ["FR"] }, { allowedCountries: ["DE"] }], want: ["CountryNotAllowed"] },
    { name: "applies the one non-empty list when the other is empty", country: "NL", constraints: [{ allowedCountries: [] }, { allowedCountries: ["FR"] }], want: ["CountryNotAllowed"] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(runFilter(country, { cluster: cluster({ country: c.country }), request: request({ constraints: c.constraints }) }), c.want));
  }
});
