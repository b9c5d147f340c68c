import assert from "node:assert/strict";
import type { ResidencyConstraints } from "../../../../operator/src/scheduler/index.ts";
import { jurisdiction } from "../../../../operator/src/scheduler/plugins/jurisdiction.ts";
import { cluster, request, runFilter } from "../builders.ts";

describe("Jurisdiction filter", () => {
  const cases: { name: string; jurisdiction: string; constraints: ResidencyConstraints[]; want: string[] | null }[] = [
    { name: "skips when nothing constrains jurisdictions", jurisdiction: "NONE", constraints: [{}], want: null },
    { name: "passes a jurisdiction on the list", jurisdiction: "EEA", constraints: [{ allowedJurisdictions: ["EU", "EEA"] }], want: [] },
    { name: "rejects a jurisdiction off the list", jurisdiction: "NONE", constraints: [{ allowedJurisdictions: ["EU", "EEA"] }], want: ["JurisdictionNotAllowed"] },
    { name: "rejects what only the looser of two lists allows", jurisdiction: "EEA", constraints: [{ allowedJurisdictions: ["EU", "EEA"] }, { allowedJurisdictions: ["EU"] }], want: ["JurisdictionNotAllowed"] },
    { name: "passes what both lists allow", jurisdiction: "EU", constraints: [{ allowedJurisdictions: ["EU", "EEA"] }, { allowedJurisdictions: ["EU"] }], want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(runFilter(jurisdiction, { cluster: cluster({ jurisdiction: c.jurisdiction }), request: request({ constraints: c.constraints }) }), c.want));
  }
});
