import assert from "node:assert/strict";
import { cluster, on, placed, run, workload } from "./world.ts";

// Found by the mutation review: an eviction (or a failover) at the same time as a
// scale-down asked the scheduler to replace every evicted replica, then kept all the
// staying ones too, and published more replicas than the user wanted.
describe("a scale-down at the same time as an eviction or a failover", function () {
  const expired = [{ name: "HDS" as const, validUntil: "2026-01-31" }];

  it("places exactly the new replica count when a cluster is evicted (Divided): no new pods anywhere", function () {
    const w = workload({ replicas: 2, certs: ["HDS"], placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: expired }), cluster({ name: "fr-2" }), cluster({ name: "fr-3" })] });
    assert.deepEqual(on(s), { "fr-2": 2 });
    assert.equal(s.status.conditions?.find((c) => c.type === "Scheduled")?.status, "True");
  });

  it("still replaces what the staying clusters no longer cover (positive control: a scale-up with the eviction)", function () {
    const w = workload({ replicas: 5, certs: ["HDS"], placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: expired }), cluster({ name: "fr-2" }), cluster({ name: "fr-3" })] });
    assert.equal(Object.values(on(s)).reduce((a, b) => a + b, 0), 5);
    assert.equal(on(s)["fr-1"], undefined);
  });

  it("places exactly the new replica count when a lost cluster fails over (Divided, toleration over)", function () {
    const w = workload({ replicas: 2, failover: { enabled: true, tolerationSeconds: 0 }, placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 2]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", ready: false }), cluster({ name: "fr-2" }), cluster({ name: "fr-3" })] });
    assert.deepEqual(on(s), { "fr-2": 2 });
  });

  it("replaces each evicted copy with one copy of the new size (Duplicated)", function () {
    const w = workload({ replicas: 2, mode: "Duplicated", maxClusters: 2, certs: ["HDS"], placements: placed(["fr-1", "FR", 3], ["fr-2", "FR", 3]) });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1", certs: expired }), cluster({ name: "fr-2" }), cluster({ name: "fr-3" })] });
    assert.deepEqual(on(s), { "fr-2": 2, "fr-3": 2 });
  });
});
