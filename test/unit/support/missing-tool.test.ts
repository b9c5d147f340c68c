import assert from "node:assert/strict";
import { ciRequiresTools, skipForMissingTool } from "../../support/missing-tool.ts";

describe("a suite whose tool is missing", function () {
  it("fails in CI, naming the tool and how to install it", function () {
    assert.throws(() => skipForMissingTool(this, { tool: "promtool", install: "apt-get install prometheus", env: { CI: "true" } }), /promtool not found \(apt-get install prometheus\): CI is set/);
  });

  it("reads CI as set for any value but empty, false and 0", function () {
    for (const v of ["true", "1", "yes"]) assert.ok(ciRequiresTools({ CI: v }), v);
    for (const v of [undefined, "", "false", "0"]) assert.ok(!ciRequiresTools(v === undefined ? {} : { CI: v }), String(v));
  });

  it("skips outside CI (positive control: the skip is what mocha's forbid-pending then reports)", function () {
    let skipped = false;
    const ctx = { skip: () => { skipped = true; throw new Error("skipped"); } } as unknown as Mocha.Context;
    assert.throws(() => skipForMissingTool(ctx, { tool: "promtool", install: "x", env: {} }), /skipped/);
    assert.ok(skipped);
  });
});
