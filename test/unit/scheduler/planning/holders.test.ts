// Holders at the edges of readiness and toleration (moved from the workload controller's
// mutation review with the planning): each test fails on a one-line change the others let through.
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { MemberCluster } from "../../../../operator/src/api/index.ts";
import { classifyHolders } from "../../../../operator/src/scheduler/index.ts";
import { cluster, placed, T0 } from "../../controllers/workload/world.ts";

const byName = (cs: MemberCluster[]) => new Map(cs.map((c) => [c.metadata.name, c]));
const one = placed(["fr-1", "FR", 2]);
const failover = { enabled: true, tolerationSeconds: 30 };

describe("planning holders: readiness and toleration at their edges", () => {
  it("treats a Ready condition that is Unknown, or missing, as not ready (positive control: True keeps)", () => {
    const base = cluster({ name: "fr-1" });
    const unknown = { ...base, status: { ...base.status, conditions: [{ ...base.status!.conditions![0]!, status: "Unknown" as const }] } };
    const missing = { ...base, status: { ...base.status, conditions: [] } };
    for (const c of [unknown, missing]) {
      const [h] = classifyHolders({ previous: one, clusters: byName([c]), violations: new Map(), failover, now: T0 });
      assert.notEqual(h!.state, "Kept", JSON.stringify(c.status));
    }
    const [kept] = classifyHolders({ previous: one, clusters: byName([base]), violations: new Map(), failover, now: T0 });
    assert.equal(kept!.state, "Kept");
  });

  it("counts a cluster that never reported Ready from its creation, so a new cluster gets its toleration", () => {
    const base = cluster({ name: "fr-1" });
    const created = T0 - 10_000;
    const fresh = { ...base, metadata: { ...base.metadata, creationTimestamp: new Date(created).toISOString() }, status: { ...base.status, conditions: [] } };
    const [h] = classifyHolders({ previous: one, clusters: byName([fresh]), violations: new Map(), failover, now: T0 });
    assert.equal(h!.state, "Held");
    assert.equal(h!.tolerationEndsAt, created + 30_000);
    // Positive control: past the toleration counted from creation, it is Lost.
    const [later] = classifyHolders({ previous: one, clusters: byName([fresh]), violations: new Map(), failover, now: created + 30_001 });
    assert.equal(later!.state, "Lost");
  });

  it("ends the toleration exactly at lastTransitionTime + tolerationSeconds: Held one ms before, Lost at that instant", () => {
    const since = T0 - 60_000;
    const down = cluster({ name: "fr-1", ready: false, since });
    const at = (now: number) => classifyHolders({ previous: one, clusters: byName([down]), violations: new Map(), failover, now })[0]!.state;
    assert.equal(at(since + 29_999), "Held");
    assert.equal(at(since + 30_000), "Lost");
  });
});
