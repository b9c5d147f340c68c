import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { workloadForUid, workloadsForCluster, workloadsForPolicy } from "../../../../operator/src/controllers/workload/watches.ts";
import { residencyPolicy } from "../../../support/builders.ts";
import { cluster, placed, workload } from "./world.ts";

function named(name: string, w: ReturnType<typeof workload>, scheduled: boolean) {
  w.metadata = { ...w.metadata, name, uid: `uid-${name}` };
  w.status = { ...w.status, conditions: [{ type: "Scheduled", status: scheduled ? "True" : "False", reason: "x", message: "", lastTransitionTime: "2026-11-28T00:00:00Z" }] };
  return w;
}

describe("workload watches", () => {
  const onFr = named("on-fr", workload({ placements: placed(["fr-1", "FR", 2]) }), true);
  const onDe = named("on-de", workload({ placements: placed(["de-1", "DE", 2]) }), true);
  const pending = named("pending", workload({ policy: "health" }), false);

  it("maps a MemberCluster change to the workloads placed there and those not yet scheduled, not the others", () => {
    assert.deepEqual(workloadsForCluster(cluster({ name: "fr-1" }), [onFr, onDe, pending]).sort(), ["ns/on-fr", "ns/pending"]);
  });

  it("maps a ResidencyPolicy change to the workloads that reference it", () => {
    assert.deepEqual(workloadsForPolicy(residencyPolicy({ name: "health" }), [onFr, pending]), ["ns/pending"]);
    assert.deepEqual(workloadsForPolicy(residencyPolicy({ name: "other" }), [onFr, pending]), []);
  });

  it("maps a member status report to its workload by uid", () => {
    assert.equal(workloadForUid("uid-on-de", [onFr, onDe]), "ns/on-de");
    assert.equal(workloadForUid("nope", [onFr, onDe]), undefined);
  });
});
