import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { GuardRefusals, isGuardRefusal, refusalKey } from "../../../operator/src/controllers/index.ts";

// As the API server words a denial the ReplicaSet controller copies into FailedCreate.
const denial = (pod: string, why = "the pod allows countries [FR] but member ionos-fra-1 is in country DE") =>
  `pods "${pod}" is forbidden: ValidatingAdmissionPolicy 'sovereign-residency-guard' with binding 'sovereign-residency-guard' denied request: residency guard: ${why}`;

describe("residency-guard refusals reported by members", () => {
  describe("which status messages are guard refusals", () => {
    const table = [
      { message: denial("web-7d9f-"), refusal: true },
      { message: "residency guard: this member's residency facts (ConfigMap sovereign-system/sovereign-residency-facts) are missing, so no sovereign pod may run here", refusal: true },
      { message: "admission webhook \"sovereign-residency-guard.example\" denied the request", refusal: true },
      { message: 'pods "web-7d9f-" is forbidden: exceeded quota: compute, requested: cpu=2', refusal: false },
      { message: "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1", refusal: false },
      { message: "", refusal: false },
    ];
    for (const row of table) {
      it(`${row.refusal ? "is" : "is not"} a refusal: ${row.message || "(empty)"}`, () => assert.equal(isGuardRefusal(row.message), row.refusal));
    }
  });

  it("names the same refusal the same whatever pod the ReplicaSet tried, and different refusals differently", () => {
    assert.equal(refusalKey(denial("web-7d9f-abcde")), refusalKey(denial("web-7d9f-fghij")));
    assert.notEqual(refusalKey(denial("web-7d9f-")), refusalKey(denial("web-7d9f-", "the pod forbids extraterritorial exposure but member aws-fra-1 is exposed to [US-CLOUD-Act]")));
  });

  // Each row: the status messages one member sends about one workload, in order, and which ones count.
  const sequences = [
    { what: "a refusal repeated in every later status counts once", messages: [denial("a-"), denial("a-"), denial("a-")], counted: [true, false, false] },
    { what: "a retry naming another pod is the same refusal", messages: [denial("a-x1"), denial("a-x2")], counted: [true, false] },
    { what: "a refusal that cleared and came back counts twice", messages: [denial("a-"), "", denial("a-")], counted: [true, false, true] },
    { what: "a refusal for another reason counts again", messages: [denial("a-"), denial("a-", "the pod requires certifications [HDS] but member x holds no valid [HDS] (valid today: [])")], counted: [true, true] },
    { what: "other failures count nothing", messages: ["exceeded quota", "exceeded quota", ""], counted: [false, false, false] },
    { what: "a refusal after another failure counts", messages: ["exceeded quota", denial("a-")], counted: [false, true] },
  ];
  for (const row of sequences) {
    it(row.what, () => {
      const g = new GuardRefusals();
      assert.deepEqual(row.messages.map((message) => g.observe({ uid: "u1", cluster: "ionos-fra-1", message })), row.counted);
    });
  }

  it("keeps members and workloads apart: the same refusal from another cluster or workload is another rejection", () => {
    const g = new GuardRefusals();
    assert.equal(g.observe({ uid: "u1", cluster: "ionos-fra-1", message: denial("a-") }), true);
    assert.equal(g.observe({ uid: "u1", cluster: "aws-fra-1", message: denial("a-") }), true);
    assert.equal(g.observe({ uid: "u2", cluster: "ionos-fra-1", message: denial("a-") }), true);
    assert.equal(g.observe({ uid: "u1", cluster: "ionos-fra-1", message: denial("a-") }), false);
  });

  it("does not count a refusal replayed when the consumer opens, nor its repetitions, but counts the next new one", () => {
    const g = new GuardRefusals();
    assert.equal(g.observe({ uid: "u1", cluster: "ionos-fra-1", message: denial("a-"), replayed: true }), false);
    assert.equal(g.observe({ uid: "u1", cluster: "ionos-fra-1", message: denial("a-") }), false);
    assert.equal(g.observe({ uid: "u1", cluster: "ionos-fra-1", message: "" }), false);
    assert.equal(g.observe({ uid: "u1", cluster: "ionos-fra-1", message: denial("a-") }), true, "positive control: a live new refusal counts");
  });
});
