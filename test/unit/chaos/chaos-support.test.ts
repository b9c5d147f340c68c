import assert from "node:assert/strict";
import fc from "fast-check";
import { replaceFlags, UnknownComponentError } from "../../../hack/lib/federation/index.ts";
import { chaosSeed, randomFrom, renderTable, Scenario, type TableRow } from "../../chaos/support/chaos.ts";

const row = (r: Partial<TableRow>): TableRow => ({ scenario: "s", seed: 1, recoveredS: 1, violations: 0, lost: 0, duplicates: 0, result: "ok", notes: [], ...r });

describe("chaos support: seeds, the table, restarting a component with other flags", function () {
  it("a seed repeats the same choices, and CHAOS_SEED is validated", function () {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
      const a = randomFrom(seed);
      const b = randomFrom(seed);
      for (let i = 0; i < 20; i++) {
        const x = a();
        assert.equal(x, b());
        assert.ok(x >= 0 && x < 1);
      }
    }));
    assert.equal(chaosSeed({ CHAOS_SEED: "42" }), 42);
    for (const bad of ["-1", "1.5", "x", "4294967296"]) assert.throws(() => chaosSeed({ CHAOS_SEED: bad }), /CHAOS_SEED/);
    const s = new Scenario({ name: "n", seed: 7 });
    const t = new Scenario({ name: "n", seed: 7 });
    assert.deepEqual([s.int(1, 6), s.pick(["a", "b", "c"])], [t.int(1, 6), t.pick(["a", "b", "c"])]);
  });

  it("the table has the issue's columns, the slowest recovery, and says NOT CLEAN for any violation, loss, duplicate or failure", function () {
    const clean = renderTable([row({ scenario: "a", recoveredS: 3 }), row({ scenario: "b", recoveredS: 12.34 })]);
    const header = clean.split("\n")[0]!;
    for (const col of ["scenario", "recovered in s", "residency violations", "lost pods", "duplicate pods or Deployments"]) assert.ok(header.includes(col), col);
    assert.match(clean, /slowest recovery: 12\.3 s \(b\)/);
    assert.match(clean, /every scenario: 0 violations, 0 lost, 0 duplicates/);
    for (const bad of [{ violations: 1 }, { lost: 1 }, { duplicates: 2 }, { result: "FAILED: x", recoveredS: undefined }]) {
      assert.match(renderTable([row({}), row(bad)]), /NOT CLEAN/, JSON.stringify(bad));
    }
  });

  it("a scenario's kept pods go with a workload it deletes (not counted lost)", function () {
    const s = new Scenario({ name: "n", seed: 1 });
    s.expect({ uid: "w", name: "w", want: { a: 1 } });
    s.keep("w", ["p1"]);
    s.keep("v", ["p2"]);
    s.expectGone({ uid: "w", name: "w" });
    assert.deepEqual([...s.kept.keys()], ["v"]);
    assert.equal(s.expectations.size, 0);
  });

  it("replaceFlags replaces a flag's value and refuses a flag the command line lacks", function () {
    const args = ["main.ts", "--nats-url", "tls://127.0.0.1:1", "--kubeconfig", "k"];
    assert.deepEqual(replaceFlags(args, { "--nats-url": "tls://127.0.0.1:2" }), ["main.ts", "--nats-url", "tls://127.0.0.1:2", "--kubeconfig", "k"]);
    assert.deepEqual(replaceFlags(args, {}), args);
    assert.throws(() => replaceFlags(args, { "--nats-creds": "x" }), UnknownComponentError);
    assert.throws(() => replaceFlags(["--kubeconfig"], { "--kubeconfig": "x" }), UnknownComponentError);
  });
});
