import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../../..");

describe("generated protobuf code", () => {
  it("is up to date with proto/ (hack/gen --check regenerates into a temp folder and diffs)", function () {
    // buf + ts-proto start in about a second, more on a busy 2-core machine.
    this.timeout(60_000);
    const run = spawnSync(path.join(repoRoot, "hack", "gen"), ["--check"], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(run.status, 0, `hack/gen --check failed:\n${run.stdout}\n${run.stderr}`);
  });
});
