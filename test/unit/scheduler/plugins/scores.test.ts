import assert from "node:assert/strict";
import { clusterInfo, type ClusterScorer, type Resources } from "../../../../operator/src/scheduler/index.ts";
import { freeCapacity, UNKNOWN_CAPACITY_SCORE } from "../../../../operator/src/scheduler/plugins/free-capacity.ts";
import { spreadBalance } from "../../../../operator/src/scheduler/plugins/spread-balance.ts";
import { cluster, NOW, request } from "../builders.ts";

describe("FreeCapacity score", () => {
  const pods = (n: number): Resources => ({ cpuMilli: 64_000, memoryBytes: 2 ** 40, pods: n });
  const eligible = [clusterInfo(cluster({ name: "a", free: pods(100) })), clusterInfo(cluster({ name: "b", free: pods(25) })), clusterInfo(cluster({ name: "c", free: undefined }))];
  const scorer = freeCapacity.prepare({ request: request(), now: NOW, eligible }) as Extract<ClusterScorer, { kind: "cluster" }>;
  const cases = [
    { name: "gives the roomiest eligible cluster 100", cluster: "a", want: 100 },
    { name: "scores others in proportion to their room", cluster: "b", want: 25 },
    { name: "gives a cluster of unknown capacity a middle score", cluster: "c", want: UNKNOWN_CAPACITY_SCORE },
  ];
  for (const c of cases) it(c.name, () => assert.equal(scorer.score(eligible.find((e) => e.name === c.cluster)!), c.want));
});

describe("SpreadBalance score", () => {
  const scorer = spreadBalance.prepare({ request: request(), now: NOW, eligible: [] }) as Extract<ClusterScorer, { kind: "selection" }>;
  const state = (countries: [string, number][], regions: [string, number][]) => ({
    size: countries.reduce((s, [, n]) => s + n, 0),
    countries: new Map(countries),
    regions: new Map(regions),
  });
  const cases = [
    { name: "gives 100 to the first pick", locality: { country: "FR", regionKey: "FR/par" }, selection: state([], []), want: 100 },
    { name: "gives 100 to a country not yet chosen", locality: { country: "DE", regionKey: "DE/fra" }, selection: state([["FR", 2]], [["FR/par", 2]]), want: 100 },
    { name: "prefers a new region in a chosen country over the same region", locality: { country: "FR", regionKey: "FR/rbx" }, selection: state([["FR", 2]], [["FR/par", 2]]), want: 50 },
    { name: "gives 0 to the only country and region already chosen", locality: { country: "FR", regionKey: "FR/par" }, selection: state([["FR", 2]], [["FR/par", 2]]), want: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(scorer.score(c.locality, c.selection), c.want));
});
