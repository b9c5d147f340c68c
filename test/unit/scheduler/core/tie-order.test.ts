// API.md: ties are broken by cluster name. Equal clusters in ONE region are where the
// selection compares candidates of the same locality (select.ts bestOf), which tests with
// one cluster per region never reach.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decide, type ClusterView, type Decision, type PlacementRequest } from "../../../../operator/src/scheduler/index.ts";
import { cluster, NOW, request } from "../builders.ts";
import { clusters as arbitraryClusters, now, placementRequest } from "../properties/arbitraries.ts";
import { fcParams } from "../properties/runs.ts";

const par = (name: string, pods = 50): ClusterView => cluster({ name, country: "FR", region: "eu-west-par", free: { cpuMilli: Infinity, memoryBytes: Infinity, pods } });
const placed = (d: Decision) => Object.fromEntries(d.placements.map((p) => [p.cluster, p.replicas]));
const run = (clusters: ClusterView[], req: Partial<PlacementRequest>) => decide({ clusters, request: request(req), now: NOW });

describe("tie order among equal clusters", () => {
  describe("in one region", () => {
    const rows: { what: string; clusters: string[]; req: Partial<PlacementRequest>; expected: Record<string, number> }[] = [
      { what: "one replica over three equal clusters goes to the first by name", clusters: ["c", "a", "b"], req: { replicas: 1 }, expected: { a: 1 } },
      { what: "two replicas over three equal clusters go to the first two by name", clusters: ["b", "c", "a"], req: { replicas: 2 }, expected: { a: 1, b: 1 } },
      { what: "maxClusters 2 of four equal clusters keeps the first two by name, the odd replica to the first", clusters: ["d", "b", "a", "c"], req: { replicas: 5, maxClusters: 2 }, expected: { a: 3, b: 2 } },
      { what: "Duplicated with maxClusters 1 over two equal clusters uses the first by name", clusters: ["z2", "z1"], req: { replicas: 3, mode: "Duplicated", maxClusters: 1 }, expected: { z1: 3 } },
      { what: "Duplicated with maxClusters 2 over three equal clusters uses the first two by name", clusters: ["m", "k", "l"], req: { replicas: 2, mode: "Duplicated", maxClusters: 2 }, expected: { k: 2, l: 2 } },
    ];
    for (const row of rows) {
      it(row.what, () => {
        const d = run(row.clusters.map((n) => par(n)), row.req);
        assert.equal(d.scheduled, true, d.message);
        assert.deepEqual(placed(d), row.expected);
      });
    }

    it("prefers the roomier cluster over an earlier name, so name only breaks exact ties", () => {
      const d = run([par("a", 10), par("b", 90), par("c", 10)], { replicas: 1 });
      assert.deepEqual(placed(d), { b: 1 });
    });
  });

  describe("across regions of one country", () => {
    it("gives the first pick to the earlier cluster by name when two regions tie", () => {
      const r = (name: string, region: string) => cluster({ name, country: "FR", region, free: { cpuMilli: Infinity, memoryBytes: Infinity, pods: 50 } });
      const d = run([r("b", "r-b"), r("a", "r-z")], { replicas: 1 });
      assert.deepEqual(placed(d), { a: 1 });
    });
  });

  it("chooses, of two clusters identical but for their names, the earlier one first and gives it at least as many replicas (property)", () => {
    // A twin of one arbitrary cluster, renamed: same locality, facts and room, so only the name can break the tie.
    const input = fc
      .record({ clusters: arbitraryClusters, request: placementRequest, now, pick: fc.nat(), twin: fc.constantFrom("a0", "zz", "m-twin", "b1") })
      .filter((i) => i.clusters.length > 0 && !i.clusters.some((c) => c.name === i.twin));
    let contested = 0;
    fc.assert(
      fc.property(input, (i) => {
        const original = i.clusters[i.pick % i.clusters.length]!;
        const twin = { ...original, name: i.twin };
        const [first, second] = original.name < twin.name ? [original.name, twin.name] : [twin.name, original.name];
        const d = decide({ clusters: [...i.clusters, twin], request: i.request, now: i.now });
        const shares = placed(d);
        if (shares[second] !== undefined) {
          assert.ok(shares[first] !== undefined, `${second} was chosen over its earlier twin ${first}`);
          assert.ok(shares[first]! >= shares[second]!, `${first} got ${shares[first]}, its later twin ${second} got ${shares[second]}`);
        }
        if (shares[first] !== undefined && shares[second] === undefined) contested++;
      }),
      fcParams(),
    );
    // The property is only worth something if inputs where one twin had to lose occurred.
    assert.ok(contested > 0, "no input made the twins compete");
  });
});
