import assert from "node:assert/strict";
import { clusterInfo, replicasThatFit, type ClusterScorer, type Resources } from "../../../../operator/src/scheduler/index.ts";
import { freeCapacity, UNKNOWN_CAPACITY_SCORE } from "../../../../operator/src/scheduler/plugins/free-capacity.ts";
import { spreadBalance } from "../../../../operator/src/scheduler/plugins/spread-balance.ts";
import { cluster, NOW, request } from "../builders.ts";

describe("FreeCapacity score", () => {
  const pods = (n: number): Resources => ({ cpuMilli: 64_000, memoryBytes: 2 ** 40, pods: n });
  const eligible = [clusterInfo(cluster({ name: "a", free: pods(100) })), clusterInfo(cluster({ name: "b", free: pods(25) })), clusterInfo(cluster({ name: "c", free: undefined }))];
  const fits = Float64Array.from(eligible, (c) => replicasThatFit(c.free, request().perReplica));
  const scorer = freeCapacity.prepare({ request: request(), now: NOW, eligible, fits }) as Extract<ClusterScorer, { kind: "cluster" }>;
  const cases = [
    { name: "gives the roomiest eligible cluster 100", cluster: "a", want: 100 },
    { name: "scores others in proportion to their room", cluster: "b", want: 25 },
    { name: "gives a cluster of unknown capacity a middle score", cluster: "c", want: UNKNOWN_CAPACITY_SCORE },
  ];
  for (const c of cases) it(c.name, () => assert.equal(scorer.score(eligible.findIndex((e) => e.name === c.cluster)), c.want));
});

describe("SpreadBalance score", () => {
  const scorer = spreadBalance.prepare({ request: request(), now: NOW, eligible: [], fits: new Float64Array() }) as Extract<ClusterScorer, { kind: "selection" }>;
  // Countries FR=0, DE=1; regions FR/par=0, FR/rbx=1, DE/fra=2.
  const state = (perCountry: number[], perRegion: number[]) => ({
    size: perCountry.reduce((s, n) => s + n, 0),
    perCountry: Int32Array.from(perCountry),
    perRegion: Int32Array.from(perRegion),
  });
  const par = { country: "FR", regionKey: "FR/par", countryIndex: 0, regionIndex: 0 };
  const rbx = { country: "FR", regionKey: "FR/rbx", countryIndex: 0, regionIndex: 1 };
  const fra = { country: "DE", regionKey: "DE/fra", countryIndex: 1, regionIndex: 2 };
  const cases = [
    { name: "gives 100 to the first pick", locality: par, selection: state([0, 0], [0, 0, 0]), want: 100 },
    { name: "gives 100 to a country not yet chosen", locality: fra, selection: state([2, 0], [2, 0, 0]), want: 100 },
    { name: "prefers a new region in a chosen country over the same region", locality: rbx, selection: state([2, 0], [2, 0, 0]), want: 50 },
    { name: "gives 0 to the only country and region already chosen", locality: par, selection: state([2, 0], [2, 0, 0]), want: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(scorer.score(c.locality, c.selection), c.want));
});
