import assert from "node:assert/strict";
import { REQUIREMENT_ANNOTATIONS } from "../../../operator/src/api/index.ts";
import { annotationViolations, residencyReasons } from "../../e2e/support/auditor.ts";
import { memberCluster, NOW, residencyPolicy, sovereignWorkload } from "../../support/builders.ts";

// The e2e auditor is the oracle every end-to-end step is judged by: it must see a
// violation where there is one (these are its positive controls) and none where there
// is none, whatever the cluster's health.
describe("the e2e residency auditor's verdicts", function () {
  const at = new Date(NOW);
  const german = memberCluster({ name: "ionos-fra-1", residency: { country: "DE", certifications: [{ name: "C5", validUntil: "2027-02-28" }] } });
  const exposed = memberCluster({ name: "aws-fra-1", residency: { country: "DE", extraterritorialExposure: ["US-CLOUD-Act"], certifications: [] } });
  const french = memberCluster({ name: "ovh-par-1" });

  it("flags a French-only HDS workload's pod on a German member, by country and certification", function () {
    const workload = sovereignWorkload({ spec: { residencyPolicy: "health" } });
    const reasons = residencyReasons({ cluster: german, workload, policy: residencyPolicy(), at });
    assert.deepEqual(reasons.sort(), ["CountryNotAllowed", "MissingCertification"]);
  });

  it("passes the same pod on a French HDS member even when that member is NotReady and tainted (availability is not residency)", function () {
    const notReady = memberCluster({ name: "ovh-par-1", status: null, taints: [{ key: "maintenance", effect: "NoSchedule" }] });
    const workload = sovereignWorkload({ spec: { residencyPolicy: "health" } });
    assert.deepEqual(residencyReasons({ cluster: notReady, workload, policy: residencyPolicy(), at }), []);
  });

  it("flags exposure when the workload forbids it, and an expired certification after its last day", function () {
    const workload = sovereignWorkload({ spec: { residency: { forbidExtraterritorialExposure: true } } });
    assert.deepEqual(residencyReasons({ cluster: exposed, workload, policy: undefined, at }), ["ExtraterritorialExposure"]);
    const hds = sovereignWorkload({ spec: { residency: { requiredCertifications: ["HDS"] } } });
    const lastDay = memberCluster({ residency: { certifications: [{ name: "HDS", validUntil: "2026-11-28" }] } });
    assert.deepEqual(residencyReasons({ cluster: lastDay, workload: hds, policy: undefined, at: new Date("2026-11-28T23:59:59Z") }), []);
    assert.deepEqual(residencyReasons({ cluster: lastDay, workload: hds, policy: undefined, at: new Date("2026-11-29T00:00:00Z") }), ["CertificationExpired"]);
  });

  it("judges a pod by its own requirement annotations against the host's facts (the guard's view)", function () {
    const annotations = {
      [REQUIREMENT_ANNOTATIONS.allowedCountries]: "FR",
      [REQUIREMENT_ANNOTATIONS.requiredCertifications]: "HDS",
      [REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure]: "true",
    };
    assert.equal(annotationViolations({ cluster: german, annotations, at }).length, 2);
    assert.equal(annotationViolations({ cluster: exposed, annotations, at }).length, 3);
    assert.deepEqual(annotationViolations({ cluster: french, annotations, at }), []);
    assert.deepEqual(annotationViolations({ cluster: german, annotations: {}, at }), []);
  });
});
