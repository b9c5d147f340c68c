import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../../..");

describe("every mocha configuration", function () {
  it("forbids .only and pending tests (a focused or skipped test must not pass a run)", function () {
    const files = readdirSync(path.join(root, "test"), { recursive: true, encoding: "utf8" }).filter((f) => /(^|\/)\.mocharc\.[a-z]+$/.test(f));
    assert.ok(files.length >= 3, `found ${files.join(", ")}`);
    for (const f of files) {
      const config = JSON.parse(readFileSync(path.join(root, "test", f), "utf8")) as Record<string, unknown>;
      assert.equal(config["forbid-only"], true, `${f}: forbid-only`);
      assert.equal(config["forbid-pending"], true, `${f}: forbid-pending`);
    }
  });
});
