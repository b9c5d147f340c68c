// Explain answers exactly what the controller does, and both keep residency under
// failover: the property is explain-check.ts's, run here with enough runs to find the
// residency mutants of the planning every time (see residency.test.ts).
import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, it } from "mocha";
import { fcParams } from "../properties/runs.ts";
import { check, RUNS, scenario, type Checked, type Scenario } from "./explain-check.ts";

describe("planning: Explain answers exactly what the controller does, and both keep residency under failover (property)", function () {
  // Two planned decisions and an Explain per run; the machine is shared.
  this.timeout(300_000);

  it("over generated federations with NotReady holders, expiring certifications, exposures and tightened policies", async () => {
    const counts: Checked = { sameCountryFailovers: 0, held: 0 };
    const params = fcParams<[Scenario]>();
    await fc.assert(fc.asyncProperty(scenario, (s) => check(s, counts)), { ...params, numRuns: Math.max(params.numRuns ?? 0, RUNS) });
    // Not vacuous: the generator does produce the situations the checks are about.
    assert.ok(counts.sameCountryFailovers > 20, `only ${counts.sameCountryFailovers} same-country failovers were generated`);
    assert.ok(counts.held > 20, `only ${counts.held} held clusters were generated`);
  });
});
