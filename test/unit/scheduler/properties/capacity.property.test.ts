// Capacity against maxClusters and spread, checked by brute force: with at most 7 (or 9)
// clusters every subset can be tried, so "unschedulable" can be compared with "no
// allowed subset exists" rather than with another clever algorithm.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decide, type ClusterView, type Decision, type PlacementRequest } from "../../../../operator/src/scheduler/index.ts";
import { clusters as anyClusters, constraints, COUNTRIES, now, placementRequest } from "./arbitraries.ts";
import { oracleEligible, oracleFit } from "./oracle.ts";
import { fcParams } from "./runs.ts";

interface Input {
  clusters: ClusterView[];
  request: PlacementRequest;
  now: number;
}

const NAMES = ["a", "b", "c", "d", "e", "f", "g"] as const;

/** Mostly eligible clusters with little room, some unreported: where the choice of clusters decides whether the replicas fit. */
const tightCluster: fc.Arbitrary<ClusterView> = fc
  .record({
    name: fc.constantFrom(...NAMES),
    ready: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    country: fc.constantFrom(...COUNTRIES.slice(0, 3)),
    region: fc.constantFrom("r1", "r2"),
    exposed: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    free: fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 6, arbitrary: fc.record({ pods: fc.integer({ min: 0, max: 20 }), cpuMilli: fc.integer({ min: 0, max: 8_000 }), memoryBytes: fc.constant(Infinity) }) },
    ),
  })
  .map(({ exposed, free, ...c }) => ({
    ...c,
    jurisdiction: "EU",
    extraterritorialExposure: exposed ? ["US-CLOUD-Act"] : [],
    certifications: [],
    taints: [],
    labels: {},
    ...(free ? { free } : {}),
  }));

const tightRequest: fc.Arbitrary<PlacementRequest> = fc
  .record({
    replicas: fc.integer({ min: 1, max: 60 }),
    mode: fc.oneof({ weight: 4, arbitrary: fc.constant("Divided" as const) }, { weight: 1, arbitrary: fc.constant("Duplicated" as const) }),
    maxClusters: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    minCountries: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    constraints: fc.array(constraints, { maxLength: 1 }),
    cpuMilli: fc.constantFrom(0, 0, 500),
  })
  .map(({ maxClusters, minCountries, cpuMilli, ...r }) => ({
    workload: "ns/app",
    ...r,
    tolerations: [],
    perReplica: { cpuMilli, memoryBytes: 0 },
    ...(maxClusters !== undefined ? { maxClusters } : {}),
    ...(minCountries !== undefined ? { minCountries } : {}),
  }));

const tight: fc.Arbitrary<Input> = fc.record({
  clusters: fc.uniqueArray(tightCluster, { selector: (c) => c.name, maxLength: NAMES.length }),
  request: tightRequest,
  now,
});
/** The general input (up to 9 clusters of any facts), with at least one replica. */
const general: fc.Arbitrary<Input> = fc.record({ clusters: anyClusters, request: placementRequest.filter((r) => r.replicas > 0), now });

/**
 * Whether API.md allows some placement: a set of eligible clusters, at most maxClusters,
 * covering spread.minCountries countries, that can hold the replicas with at least one
 * in each (Divided) or all of them in each (Duplicated, which eligibility already checks).
 */
function someSubsetFits({ clusters, request, now: t }: Input): boolean {
  const eligible = clusters.filter((c) => oracleEligible(c, request, t));
  const fits = eligible.map((c) => oracleFit(c, request));
  const maxClusters = request.maxClusters ?? Infinity;
  const minCountries = request.minCountries ?? 1;
  for (let mask = 1; mask < 1 << eligible.length; mask++) {
    const members = eligible.flatMap((c, i) => ((mask & (1 << i)) !== 0 ? [i] : []));
    if (members.length > maxClusters) continue;
    if (new Set(members.map((i) => eligible[i]!.country)).size < minCountries) continue;
    if (request.mode === "Duplicated") return true;
    const room = members.reduce((sum, i) => sum + fits[i]!, 0);
    if (members.length <= request.replicas && room >= request.replicas) return true;
  }
  return false;
}

const run = ({ clusters, request, now: t }: Input): Decision => decide({ clusters, request, now: t });

describe("capacity properties (against every subset of clusters)", function () {
  this.timeout(600_000);

  for (const [name, input] of [["tight capacity, up to 7 clusters", tight], ["any facts, up to 9 clusters", general]] as const) {
    describe(name, () => {
      it("schedules the workload if and only if some allowed set of eligible clusters can hold its replicas", () => {
        fc.assert(
          fc.property(input, (i) => {
            const d = run(i);
            assert.equal(d.scheduled, someSubsetFits(i), `${d.reason}: ${d.message}`);
          }),
          fcParams(),
        );
      });

      it("never places on an ineligible cluster, nor more replicas than a cluster fits", () => {
        fc.assert(
          fc.property(input, (i) => {
            const d = run(i);
            const byName = new Map(i.clusters.map((c) => [c.name, c]));
            for (const p of d.placements) {
              const c = byName.get(p.cluster)!;
              assert.ok(oracleEligible(c, i.request, i.now), `${p.cluster} is ineligible but got ${p.replicas}`);
              assert.ok(p.replicas <= oracleFit(c, i.request), `${p.cluster} fits ${oracleFit(c, i.request)} but got ${p.replicas}`);
            }
          }),
          fcParams(),
        );
      });
    });
  }
});
