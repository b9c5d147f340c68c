import assert from "node:assert/strict";
import fc from "fast-check";
import { breachCounts, FactChanges, factKeys } from "../../e2e/support/grace.ts";

const GRACE = 60_000;

// The auditor's grace after an admin changes facts: too loose and a replica that should
// have moved is never reported; too strict and every fact-change test fails for the
// seconds the control plane needs. Each "does not count" below has a "counts" beside it.
describe("the e2e auditor's grace after a fact change", function () {
  const keys = factKeys({ member: "ovh-rbx-hds", workloadUid: "u1", policy: "health-fr-hds" });

  it("names the facts a replica is judged by: its member, its workload and its workload's policy", function () {
    assert.deepEqual(keys, ["cluster/ovh-rbx-hds", "workload/u1", "policy/health-fr-hds"]);
    assert.deepEqual(factKeys({ member: "fr", workloadUid: "u2" }), ["cluster/fr", "workload/u2"]);
  });

  it("the first observation is a baseline, not a change; a later generation, a new key or a deleted one is", function () {
    const c = new FactChanges();
    c.observe(new Map([["cluster/ovh-rbx-hds", 1], ["policy/health-fr-hds", 1]]), 1_000);
    assert.equal(c.lastChange(keys), undefined);
    c.observe(new Map([["cluster/ovh-rbx-hds", 1], ["policy/health-fr-hds", 1]]), 2_000);
    assert.equal(c.lastChange(keys), undefined, "the same generations again are no change");
    c.observe(new Map([["cluster/ovh-rbx-hds", 2], ["policy/health-fr-hds", 1]]), 3_000);
    assert.equal(c.lastChange(keys), 3_000);
    c.observe(new Map([["cluster/ovh-rbx-hds", 2], ["policy/health-fr-hds", 1], ["workload/u1", 1]]), 4_000);
    assert.equal(c.lastChange(keys), 4_000, "a workload that appears is a change of it");
    c.observe(new Map([["policy/health-fr-hds", 1], ["workload/u1", 1]]), 5_000);
    assert.equal(c.lastChange(keys), 5_000, "a MemberCluster deleted is a change of it");
  });

  it("a change of an unrelated fact (another member, another policy) gives no grace", function () {
    const c = new FactChanges();
    c.observe(new Map([["cluster/ionos-fra-1", 1], ["policy/public", 1], ["cluster/ovh-rbx-hds", 1]]), 0);
    c.observe(new Map([["cluster/ionos-fra-1", 2], ["policy/public", 2], ["cluster/ovh-rbx-hds", 1]]), 10_000);
    assert.equal(c.lastChange(keys), undefined);
    assert.ok(breachCounts({ createdAt: 5_000, at: 11_000, lastChange: c.lastChange(keys), afterMs: 0, graceMs: GRACE }));
    // Positive control: the related member's change does give it.
    c.observe(new Map([["cluster/ionos-fra-1", 2], ["policy/public", 2], ["cluster/ovh-rbx-hds", 2]]), 12_000);
    assert.ok(!breachCounts({ createdAt: 5_000, at: 13_000, lastChange: c.lastChange(keys), afterMs: 0, graceMs: GRACE }));
  });

  it("with no change seen, a breach counts at once", function () {
    assert.ok(breachCounts({ createdAt: 0, at: 1, lastChange: undefined, afterMs: 0, graceMs: GRACE }));
  });

  it("a replica placed after the change counts at once; one placed before counts only once it outlives the change by the grace", function () {
    const change = 100_000;
    assert.ok(breachCounts({ createdAt: change + 1, at: change + 2, lastChange: change, afterMs: 0, graceMs: GRACE }), "placed against known facts");
    assert.ok(!breachCounts({ createdAt: change - 1, at: change + 1, lastChange: change, afterMs: 0, graceMs: GRACE }), "just after the change");
    assert.ok(!breachCounts({ createdAt: change - 1, at: change + GRACE - 1, lastChange: change, afterMs: 0, graceMs: GRACE }), "one ms before the grace ends");
    assert.ok(breachCounts({ createdAt: change - 1, at: change + GRACE, lastChange: change, afterMs: 0, graceMs: GRACE }), "the grace is over");
  });

  it("a NoExecute toleration's seconds are added, from the later of the change and the replica's creation", function () {
    const change = 100_000;
    const after = 30_000;
    assert.ok(!breachCounts({ createdAt: change - 1, at: change + after + GRACE - 1, lastChange: change, afterMs: after, graceMs: GRACE }));
    assert.ok(breachCounts({ createdAt: change - 1, at: change + after + GRACE, lastChange: change, afterMs: after, graceMs: GRACE }));
    const created = change + 5_000;
    assert.ok(!breachCounts({ createdAt: created, at: created + after + GRACE - 1, lastChange: change, afterMs: after, graceMs: GRACE }));
    assert.ok(breachCounts({ createdAt: created, at: created + after + GRACE, lastChange: change, afterMs: after, graceMs: GRACE }));
    assert.ok(!breachCounts({ createdAt: 0, at: after, lastChange: undefined, afterMs: after, graceMs: GRACE }), "no change seen: from its creation");
  });

  it("properties: monotone in time, never counts before the change's grace for a replica placed before it, always counts after grace + afterMs", function () {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }),
      fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 0, max: 120_000 }), fc.boolean(),
      (change, createdOffset, elapsed, afterMs, graceMs, known) => {
        const createdAt = change + createdOffset;
        const lastChange = known ? change : undefined;
        const p = { createdAt, lastChange, afterMs, graceMs };
        const since = Math.max(createdAt, lastChange ?? -Infinity);
        const at = since + elapsed;
        const now = breachCounts({ ...p, at });
        if (now) assert.ok(breachCounts({ ...p, at: at + 1 }), "once it counts, it keeps counting");
        if (elapsed >= afterMs + graceMs) assert.ok(now, "counts after grace + afterMs whatever happened");
        if (known && createdAt <= change && elapsed < graceMs) assert.ok(!now, "never within the grace for a replica placed before the change");
      },
    ));
  });
});
