import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { deletionPlan } from "../../../../operator/src/controllers/workload/finalizer.ts";
import { cluster, placed, T0, workload } from "./world.ts";

const report = (ready: number) => ({ desiredReplicas: ready, readyReplicas: ready, observedGeneration: 1, message: "" });

describe("workload finalizer", () => {
  const w = workload({ placements: placed(["fr-1", "FR", 2], ["fr-2", "FR", 1]) });
  const clusters = new Map([["fr-1", cluster({ name: "fr-1" })], ["fr-2", cluster({ name: "fr-2", ready: false, since: T0 - 1000 })]]);

  it("publishes a zero intent to every listed cluster not yet acknowledged, and keeps the finalizer until then", () => {
    const p = deletionPlan({ workload: w, clusters, reports: new Map(), acknowledged: new Set() });
    assert.deepEqual(p.publishZeroTo, ["fr-1", "fr-2"]);
    assert.equal(p.mayRemoveFinalizer, false);
  });

  it("waits for a Ready cluster to report the removal, but not for a NotReady one (positive control: removal reported)", () => {
    const waiting = deletionPlan({ workload: w, clusters, reports: new Map([["fr-1", report(2)], ["fr-2", report(1)]]), acknowledged: new Set(["fr-1", "fr-2"]) });
    assert.deepEqual(waiting.waitingFor, ["fr-1"]);
    assert.equal(waiting.mayRemoveFinalizer, false);
    const done = deletionPlan({ workload: w, clusters, reports: new Map([["fr-1", report(0)], ["fr-2", report(1)]]), acknowledged: new Set(["fr-1", "fr-2"]) });
    assert.equal(done.mayRemoveFinalizer, true);
  });
});
