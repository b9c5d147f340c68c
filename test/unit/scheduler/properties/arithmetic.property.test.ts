import assert from "node:assert/strict";
import fc from "fast-check";
import { divideProportionally } from "../../../../operator/src/scheduler/core/divide.ts";
import { clusterInfo, MAX_SCORE, MIN_SCORE, replicasThatFit, type ClusterScorer } from "../../../../operator/src/scheduler/index.ts";
import { freeCapacity } from "../../../../operator/src/scheduler/plugins/free-capacity.ts";
import { spreadBalance } from "../../../../operator/src/scheduler/plugins/spread-balance.ts";
import { clusters, COUNTRIES, NOW, placementRequest } from "./arbitraries.ts";
import { fcParams } from "./runs.ts";

describe("assignment arithmetic properties", function () {
  this.timeout(600_000);

  it("divides exactly the total, within every cap, or says it cannot", () => {
    const arb = fc.array(fc.record({ weight: fc.nat(1_000), cap: fc.oneof(fc.nat(50), fc.constant(Infinity)) }), { minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(arb, fc.nat(300), (rows, total) => {
        const shares = divideProportionally({ total, weights: rows.map((r) => r.weight), caps: rows.map((r) => r.cap) });
        const room = rows.reduce((s, r) => s + r.cap, 0);
        if (shares === null) return assert.ok(room < total);
        assert.equal(shares.reduce((s, x) => s + x, 0), total);
        shares.forEach((s, k) => assert.ok(Number.isInteger(s) && s >= 0 && s <= rows[k]!.cap));
      }),
      fcParams(),
    );
  });

  it("keeps every score within 0..100", () => {
    const state = fc.record({ pickedCountries: fc.array(fc.constantFrom(...COUNTRIES), { maxLength: 6 }), country: fc.constantFrom(...COUNTRIES) });
    fc.assert(
      fc.property(clusters, placementRequest, state, (cs, request, s) => {
        const eligible = cs.map((c) => clusterInfo(c));
        const fits = Float64Array.from(eligible, (c) => replicasThatFit(c.free, request.perReplica));
        const capacity = freeCapacity.prepare({ request, now: NOW, eligible, fits }) as Extract<ClusterScorer, { kind: "cluster" }>;
        for (let i = 0; i < eligible.length; i++) {
          const score = capacity.score(i);
          assert.ok(score >= MIN_SCORE && score <= MAX_SCORE, String(score));
        }
        const perCountry = new Int32Array(COUNTRIES.length);
        for (const c of s.pickedCountries) perCountry[COUNTRIES.indexOf(c)]! += 1;
        const spread = spreadBalance.prepare({ request, now: NOW, eligible, fits }) as Extract<ClusterScorer, { kind: "selection" }>;
        const k = COUNTRIES.indexOf(s.country);
        const locality = { country: s.country, regionKey: `${s.country}/r1`, countryIndex: k, regionIndex: k };
        const score = spread.score(locality, { size: s.pickedCountries.length, perCountry, perRegion: perCountry });
        assert.ok(score >= MIN_SCORE && score <= MAX_SCORE, String(score));
      }),
      fcParams(),
    );
  });
});
