// `promtool check metrics` is Prometheus' own lint of an exposition (naming, suffixes,
// HELP, types). Debian's `prometheus` package ships it; without it this test says so and
// skips rather than passing silently.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { exercisedAgent, exercisedControlPlane } from "./exercise.ts";
import { skipForMissingTool } from "../../support/missing-tool.ts";

function promtool(): string | undefined {
  const found = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return found.error ? undefined : "promtool";
}

function checkMetrics(bin: string, exposition: string): { status: number | null; output: string } {
  const r = spawnSync(bin, ["check", "metrics"], { input: exposition, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("metrics: promtool check metrics", function () {
  const bin = promtool();
  before(function () {
    if (!bin) skipForMissingTool(this, { tool: "promtool (the exposition lint)", install: "apt-get install prometheus" });
  });

  it("finds a bad exposition bad (positive control: the lint can fail)", () => {
    const bad = "# HELP sovereign_things_total A gauge named like a counter.\n# TYPE sovereign_things_total gauge\nsovereign_things_total 1\n";
    const r = checkMetrics(bin as string, bad);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /non-counter metrics should not have "_total" suffix/);
  });

  it("finds the control plane's exposition clean, process metrics included", async () => {
    const r = checkMetrics(bin as string, await exercisedControlPlane({ processMetrics: true }).metrics());
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output.trim(), "");
  });

  it("finds the agent's exposition clean, process metrics included", async () => {
    const r = checkMetrics(bin as string, await exercisedAgent({ processMetrics: true }).metrics());
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output.trim(), "");
  });
});
