import assert from "node:assert/strict";
import { decide, type ClusterView, type Decision, type PlacementRequest } from "../../../../operator/src/scheduler/index.ts";
import { cluster, GiB, NOW, request } from "../builders.ts";

const fr = (name: string, extra: Partial<ClusterView> = {}) => cluster({ name, country: "FR", region: `fr-${name}`, ...extra });
const de = (name: string, extra: Partial<ClusterView> = {}) => cluster({ name, country: "DE", region: `de-${name}`, ...extra });
const room = (pods: number) => ({ free: { cpuMilli: Infinity, memoryBytes: Infinity, pods } });

function run(clusters: ClusterView[], req: Partial<PlacementRequest>): Decision {
  return decide({ clusters, request: request(req), now: NOW });
}
const placed = (d: Decision) => Object.fromEntries(d.placements.map((p) => [p.cluster, p.replicas]));

describe("schedule", () => {
  describe("with no eligible cluster", () => {
    it("places nothing anywhere and says NoCompliantCluster with a histogram of reasons", () => {
      const d = run(
        [fr("a", { ready: false }), de("b"), de("c"), cluster({ name: "d", country: "NL", ready: false })],
        { constraints: [{ allowedCountries: ["FR"] }] },
      );
      assert.equal(d.scheduled, false);
      assert.equal(d.reason, "NoCompliantCluster");
      assert.deepEqual(d.placements, []);
      assert.equal(d.message, "0/4 clusters are available: 3 CountryNotAllowed, 2 NotReady.");
      assert.deepEqual(d.rejected.map((r) => r.cluster), ["a", "b", "c", "d"]);
    });

    it("is NoCompliantCluster when there are no clusters at all", () => {
      const d = run([], {});
      assert.equal(d.reason, "NoCompliantCluster");
      assert.equal(d.message, "0/0 clusters are available.");
    });
  });

  describe("in Divided mode", () => {
    it("places exactly spec.replicas, in proportion to free capacity", () => {
      const d = run([fr("a", room(300)), fr("b", room(100))], { replicas: 8 });
      assert.deepEqual(placed(d), { a: 6, b: 2 });
      assert.equal(d.reason, "Scheduled");
    });

    it("breaks ties by cluster name", () => {
      const d = run([fr("b", room(100)), fr("a", room(100))], { replicas: 3 });
      assert.deepEqual(placed(d), { a: 2, b: 1 });
    });

    it("never gives a cluster more than fits, and moves the rest elsewhere", () => {
      // Equal shares (a has not reported capacity) would give b 5; it has room for 2.
      const d = run([fr("a", { free: undefined }), fr("b", room(2))], { replicas: 10 });
      assert.deepEqual(placed(d), { a: 8, b: 2 });
    });

    it("is unschedulable with InsufficientCapacity when the eligible clusters cannot hold spec.replicas", () => {
      const d = run([fr("a", room(2)), fr("b", room(3))], { replicas: 6 });
      assert.equal(d.scheduled, false);
      assert.equal(d.reason, "InsufficientCapacity");
      assert.deepEqual(d.placements, []);
      assert.deepEqual(d.rejected, [{ cluster: "a", reasons: ["InsufficientCapacity"] }, { cluster: "b", reasons: ["InsufficientCapacity"] }]);
    });

    it("uses at most maxClusters clusters, preferring the roomiest", () => {
      const d = run([fr("a", room(10)), fr("b", room(50)), fr("c", room(40))], { replicas: 9, maxClusters: 2 });
      assert.deepEqual(Object.keys(placed(d)), ["b", "c"]);
      assert.equal(d.placements.reduce((s, p) => s + p.replicas, 0), 9);
    });

    describe("when the best-scored clusters cannot hold spec.replicas but others within maxClusters can", () => {
      it("uses the two roomy clusters of one country rather than a roomy one and a tiny one elsewhere", () => {
        // Same region: the spread score then pulls the second pick to c, which holds 1.
        const par = (name: string) => cluster({ name, country: "FR", region: "par", ...room(100) });
        const d = run([par("a"), par("b"), de("c", room(1))], { replicas: 150, maxClusters: 2 });
        assert.equal(d.scheduled, true, d.message);
        assert.deepEqual(placed(d), { a: 75, b: 75 });
      });

      it("finds the pair that holds exactly spec.replicas in one country over two regions", () => {
        const r1 = (name: string, pods: number) => cluster({ name, country: "FR", region: "r1", ...room(pods) });
        const r2 = (name: string, pods: number) => cluster({ name, country: "FR", region: "r2", ...room(pods) });
        const d = run([r1("a", 8), r1("b", 9), r1("c", 8), r2("d", 4), r2("e", 7)], { replicas: 17, maxClusters: 2 });
        assert.equal(d.scheduled, true, d.message);
        assert.deepEqual(placed(d), { a: 8, b: 9 });
      });

      it("uses a cluster that never reported capacity (unbounded) though it scores below a full one", () => {
        const d = run([fr("a", room(2)), de("b", { free: undefined })], { replicas: 9, maxClusters: 1 });
        assert.equal(d.scheduled, true, d.message);
        assert.deepEqual(placed(d), { b: 9 });
      });

      it("still covers spread.minCountries with the roomiest cluster of each country", () => {
        const d = run([fr("a", room(100)), fr("b", room(100)), de("c", room(1)), de("d", room(3))], { replicas: 103, maxClusters: 2, minCountries: 2 });
        assert.equal(d.scheduled, true, d.message);
        assert.deepEqual(placed(d), { a: 100, d: 3 });
      });

      it("keeps the scores' choice when it can hold the replicas", () => {
        const d = run([fr("a", room(100)), fr("b", room(100)), de("c", room(60))], { replicas: 20, maxClusters: 2 });
        assert.deepEqual(Object.keys(placed(d)), ["a", "c"]);
      });

      it("is InsufficientCapacity, naming the most any allowed choice holds, when none can", () => {
        const d = run([fr("a", room(100)), fr("b", room(100)), de("c", room(1))], { replicas: 202, maxClusters: 2 });
        assert.equal(d.reason, "InsufficientCapacity");
        assert.match(d.message, /The 2 cluster\(s\) with the most room that may be used together have room for 200 replica\(s\); 202 are needed\.$/);
      });
    });

    it("uses no more clusters than replicas", () => {
      const d = run([fr("a"), fr("b"), fr("c")], { replicas: 2 });
      assert.equal(d.placements.length, 2);
    });

    it("covers spread.minCountries even when another country has more room", () => {
      const d = run([fr("a", room(1000)), fr("b", room(1000)), de("c", room(5))], { replicas: 4, maxClusters: 2, minCountries: 2 });
      assert.deepEqual(d.placements.map((p) => p.country).sort(), ["DE", "FR"]);
    });

    it("is SpreadUnsatisfiable when the eligible clusters span too few countries, rejecting them all", () => {
      const d = run([fr("a"), fr("b"), de("c", { ready: false })], { replicas: 4, minCountries: 2 });
      assert.equal(d.reason, "SpreadUnsatisfiable");
      assert.deepEqual(d.placements, []);
      assert.deepEqual(d.rejected, [
        { cluster: "a", reasons: ["SpreadUnsatisfiable"] },
        { cluster: "b", reasons: ["SpreadUnsatisfiable"] },
        { cluster: "c", reasons: ["NotReady"] },
      ]);
      assert.match(d.message, /^0\/3 clusters are available: 2 SpreadUnsatisfiable, 1 NotReady\. The eligible clusters span 1 country \(FR\); spread\.minCountries is 2\.$/);
    });

    it("is SpreadUnsatisfiable when there are fewer replicas than countries to cover", () => {
      const d = run([fr("a"), de("b")], { replicas: 1, minCountries: 2 });
      assert.equal(d.reason, "SpreadUnsatisfiable");
    });

    it("is SpreadUnsatisfiable when maxClusters is below spread.minCountries", () => {
      const d = run([fr("a"), de("b")], { replicas: 4, maxClusters: 1, minCountries: 2 });
      assert.equal(d.reason, "SpreadUnsatisfiable");
    });

    it("spreads over countries by default when capacity is equal", () => {
      const d = run([fr("a"), fr("b"), de("c")], { replicas: 2 });
      assert.deepEqual(d.placements.map((p) => p.country).sort(), ["DE", "FR"]);
    });

    it("schedules zero replicas with no placement", () => {
      const d = run([fr("a")], { replicas: 0 });
      assert.equal(d.scheduled, true);
      assert.deepEqual(d.placements, []);
    });

    it("schedules a workload scaled to zero even when its spread could not be met: zero replicas are not an error, and nothing runs anywhere", () => {
      const d = run([fr("a"), fr("b"), de("c", { ready: false })], { replicas: 0, minCountries: 2, maxClusters: 1 });
      assert.equal(d.scheduled, true);
      assert.equal(d.reason, "Scheduled");
      assert.deepEqual(d.placements, []);
      assert.deepEqual(d.unselected, [{ cluster: "a", reason: "NoReplicasLeft" }, { cluster: "b", reason: "NoReplicasLeft" }]);
      assert.deepEqual(d.rejected, [{ cluster: "c", reasons: ["NotReady"] }]);
    });

    it("is still NoCompliantCluster at zero replicas when no cluster is eligible", () => {
      const d = run([de("c", { ready: false })], { replicas: 0 });
      assert.equal(d.scheduled, false);
      assert.equal(d.reason, "NoCompliantCluster");
    });

    it("shares equally when a chosen cluster has not reported capacity", () => {
      const d = run([fr("a", { free: undefined }), fr("b", room(1000))], { replicas: 6 });
      assert.deepEqual(placed(d), { a: 3, b: 3 });
    });

    it("counts cpu and memory requests against free capacity", () => {
      const free = { cpuMilli: 4_000, memoryBytes: 64 * GiB, pods: 100 };
      const d = run([fr("a", { free }), fr("b", { free: { ...free, cpuMilli: 1_000 } })], { replicas: 5, perReplica: { cpuMilli: 1_000, memoryBytes: GiB } });
      assert.deepEqual(placed(d), { a: 4, b: 1 });
    });
  });

  describe("in Duplicated mode", () => {
    it("places spec.replicas in each eligible cluster", () => {
      const d = run([fr("a"), de("b"), cluster({ name: "c", country: "US", jurisdiction: "NONE" })], { mode: "Duplicated", replicas: 3, constraints: [{ allowedJurisdictions: ["EU"] }] });
      assert.deepEqual(placed(d), { a: 3, b: 3 });
      assert.deepEqual(d.rejected, [{ cluster: "c", reasons: ["JurisdictionNotAllowed"] }]);
    });

    it("honours maxClusters, covering spread.minCountries first", () => {
      const d = run([fr("a", room(100)), fr("b", room(100)), de("c", room(10))], { mode: "Duplicated", replicas: 2, maxClusters: 2, minCountries: 2 });
      assert.deepEqual(Object.keys(placed(d)), ["a", "c"]);
    });

    it("rejects clusters that cannot hold all the replicas", () => {
      const d = run([fr("a", room(2)), fr("b", room(3))], { mode: "Duplicated", replicas: 3 });
      assert.deepEqual(placed(d), { b: 3 });
      assert.deepEqual(d.rejected, [{ cluster: "a", reasons: ["InsufficientCapacity"] }]);
    });
  });

  describe("accounting for every cluster", () => {
    it("lists eligible clusters left out by maxClusters as unselected, MaxClustersReached, in name order", () => {
      const d = run([fr("c", room(10)), fr("a", room(50)), de("b", room(40)), de("d", { ready: false })], { replicas: 9, maxClusters: 2 });
      assert.deepEqual(Object.keys(placed(d)), ["a", "b"]);
      assert.deepEqual(d.unselected, [{ cluster: "c", reason: "MaxClustersReached" }]);
      assert.deepEqual(d.rejected, [{ cluster: "d", reasons: ["NotReady"] }]);
    });

    it("says NoReplicasLeft when Divided has fewer replicas than eligible clusters below maxClusters", () => {
      const d = run([fr("a"), fr("b"), fr("c")], { replicas: 2, maxClusters: 3 });
      assert.equal(d.placements.length, 2);
      assert.equal(d.unselected.length, 1);
      assert.equal(d.unselected[0]!.reason, "NoReplicasLeft");
    });

    it("lists clusters left out by the capacity fallback as unselected too", () => {
      const par = (name: string) => cluster({ name, country: "FR", region: "par", ...room(100) });
      const d = run([par("a"), par("b"), de("c", room(1))], { replicas: 150, maxClusters: 2 });
      assert.deepEqual(d.unselected, [{ cluster: "c", reason: "MaxClustersReached" }]);
    });

    it("has no unselected cluster when the workload is unschedulable: every cluster is rejected", () => {
      const d = run([fr("a", room(2)), fr("b", room(3))], { replicas: 6 });
      assert.deepEqual(d.unselected, []);
      assert.equal(d.rejected.length, 2);
    });

    it("has no unselected cluster when every eligible one is used", () => {
      const d = run([fr("a"), de("b")], { replicas: 4 });
      assert.deepEqual(d.unselected, []);
    });
  });

  describe("policy and inline constraints", () => {
    it("apply together: a cluster must satisfy both", () => {
      const d = run([fr("a"), de("b"), cluster({ name: "c", country: "NL" })], {
        constraints: [{ allowedCountries: ["FR", "DE"] }, { allowedCountries: ["DE", "NL"] }],
      });
      assert.deepEqual(Object.keys(placed(d)), ["b"]);
    });
  });

  it("lists every reason of a rejected cluster, in filter order", () => {
    const d = run([de("a", { ready: false, extraterritorialExposure: ["US-CLOUD-Act"] }), fr("b")], {
      constraints: [{ allowedCountries: ["FR"], forbidExtraterritorialExposure: true }],
    });
    assert.deepEqual(d.rejected, [{ cluster: "a", reasons: ["NotReady", "CountryNotAllowed", "ExtraterritorialExposure"] }]);
  });

  it("refuses a snapshot with two clusters of one name", () => {
    assert.throws(() => run([fr("a"), de("a")], {}), { name: "DuplicateClusterError" });
  });
});
