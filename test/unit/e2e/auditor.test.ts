import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REQUIREMENT_ANNOTATIONS } from "../../../operator/src/api/index.ts";
import { annotationBreaches, labelsOf, selectorMatches, taintBreaches, toleratesTaint, workloadBreaches } from "../../e2e/support/residency.ts";
import { apiServersOf } from "../../e2e/support/world.ts";
import { memberCluster, NOW, residencyPolicy, sovereignWorkload } from "../../support/builders.ts";

const codes = (bs: readonly { code: string }[]) => bs.map((b) => b.code).sort();

// The e2e auditor is the oracle every end-to-end step is judged by: it must see a
// violation where there is one (these are its positive controls) and none where there
// is none, whatever the cluster's health.
describe("the e2e residency auditor's verdicts (its own reading of API.md)", function () {
  const at = new Date(NOW);
  const german = memberCluster({ name: "ionos-fra-1", residency: { country: "DE", certifications: [{ name: "C5", validUntil: "2027-02-28" }] } });
  const exposed = memberCluster({ name: "aws-fra-1", residency: { country: "DE", extraterritorialExposure: ["US-CLOUD-Act"], certifications: [] } });
  const french = memberCluster({ name: "ovh-par-1" });

  it("flags a French-only HDS workload's replica on a German member, by country and certification", function () {
    const workload = sovereignWorkload({ spec: { residencyPolicy: "health" } });
    assert.deepEqual(codes(workloadBreaches({ cluster: german, workload, policy: residencyPolicy(), at })), ["CountryNotAllowed", "MissingCertification"]);
    assert.deepEqual(workloadBreaches({ cluster: french, workload, policy: residencyPolicy(), at }), []);
  });

  it("passes a replica on a French HDS member even when it is NotReady and has a NoSchedule taint (availability is not residency)", function () {
    const notReady = memberCluster({ name: "ovh-par-1", status: null, taints: [{ key: "maintenance", effect: "NoSchedule" }] });
    const workload = sovereignWorkload({ spec: { residencyPolicy: "health" } });
    assert.deepEqual(workloadBreaches({ cluster: notReady, workload, policy: residencyPolicy(), at }), []);
  });

  it("applies the policy and the inline constraints both", function () {
    const workload = sovereignWorkload({ spec: { residencyPolicy: "eu", residency: { allowedCountries: ["DE"] } } });
    const eu = residencyPolicy({ name: "eu", spec: { allowedCountries: undefined, requiredCertifications: undefined, allowedJurisdictions: ["EU"] } });
    assert.deepEqual(codes(workloadBreaches({ cluster: french, workload, policy: eu, at })), ["CountryNotAllowed"]);
    assert.deepEqual(workloadBreaches({ cluster: german, workload, policy: eu, at }), []);
    const eea = memberCluster({ residency: { country: "DE", jurisdiction: "EEA" } });
    assert.deepEqual(codes(workloadBreaches({ cluster: eea, workload, policy: eu, at })), ["JurisdictionNotAllowed"]);
  });

  it("flags exposure when forbidden (an undeclared exposure counts as exposed), and a certification after its last day", function () {
    const workload = sovereignWorkload({ spec: { residency: { forbidExtraterritorialExposure: true } } });
    assert.deepEqual(codes(workloadBreaches({ cluster: exposed, workload, policy: undefined, at })), ["ExtraterritorialExposure"]);
    const undeclared = memberCluster({ residency: { extraterritorialExposure: undefined } });
    assert.deepEqual(codes(workloadBreaches({ cluster: undeclared, workload, policy: undefined, at })), ["ExtraterritorialExposure"]);
    assert.deepEqual(workloadBreaches({ cluster: french, workload, policy: undefined, at }), []);
    const hds = sovereignWorkload({ spec: { residency: { requiredCertifications: ["HDS"] } } });
    const lastDay = memberCluster({ residency: { certifications: [{ name: "HDS", validUntil: "2026-11-28" }] } });
    assert.deepEqual(workloadBreaches({ cluster: lastDay, workload: hds, policy: undefined, at: new Date("2026-11-28T23:59:59Z") }), []);
    assert.deepEqual(codes(workloadBreaches({ cluster: lastDay, workload: hds, policy: undefined, at: new Date("2026-11-29T00:00:00Z") })), ["CertificationExpired"]);
  });

  it("matches cluster selectors against the mirrored residency labels, recomputed from the facts (never a stale mirror)", function () {
    const selector = { matchExpressions: [{ key: "certification.sovereignty.eu/secnumcloud", operator: "In" as const, values: ["3.2"] }] };
    const workload = sovereignWorkload({ spec: { residency: { clusterSelector: selector } } });
    assert.deepEqual(workloadBreaches({ cluster: french, workload, policy: undefined, at }), []);
    const lapsed = memberCluster({
      labels: { "certification.sovereignty.eu/secnumcloud": "3.2" }, // the mirror still says so...
      residency: { certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2026-11-27" }] }, // ...the facts do not
    });
    assert.deepEqual(codes(workloadBreaches({ cluster: lapsed, workload, policy: undefined, at })), ["SelectorMismatch"]);
    assert.equal(labelsOf(exposed, at)["residency.sovereignty.eu/extraterritorial-exposure"], "exposed");
    assert.equal(labelsOf(french, at)["residency.sovereignty.eu/extraterritorial-exposure"], "none");
    const labels = { tier: "gold", zone: "a" };
    assert.ok(selectorMatches({}, labels));
    assert.ok(selectorMatches({ matchLabels: { tier: "gold" }, matchExpressions: [{ key: "zone", operator: "NotIn", values: ["b"] }, { key: "gpu", operator: "DoesNotExist" }] }, labels));
    assert.ok(!selectorMatches({ matchLabels: { tier: "silver" } }, labels));
    assert.ok(!selectorMatches({ matchExpressions: [{ key: "gpu", operator: "Exists" }] }, labels));
    assert.ok(!selectorMatches({ matchExpressions: [{ key: "zone", operator: "In", values: ["b"] }] }, labels));
  });

  it("flags a NoExecute taint the template does not tolerate, bounds a toleration with seconds, and ignores NoSchedule", function () {
    const tainted = memberCluster({ taints: [{ key: "evacuate", value: "now", effect: "NoExecute" }, { key: "maintenance", effect: "NoSchedule" }] });
    assert.deepEqual(taintBreaches({ cluster: tainted, tolerations: [] }).map((b) => [b.code, b.afterMs]), [["Tainted", 0]]);
    assert.deepEqual(taintBreaches({ cluster: tainted, tolerations: [{ key: "evacuate", operator: "Exists" }] }), []);
    assert.deepEqual(taintBreaches({ cluster: tainted, tolerations: [{ key: "evacuate", operator: "Equal", value: "now", effect: "NoExecute", tolerationSeconds: 45 }] }).map((b) => b.afterMs), [45_000]);
    assert.deepEqual(taintBreaches({ cluster: tainted, tolerations: [{ key: "evacuate", operator: "Equal", value: "later" }] }).map((b) => b.afterMs), [0]);
    assert.deepEqual(taintBreaches({ cluster: french, tolerations: [] }), []);
    const workload = sovereignWorkload({ spec: { residency: {} } });
    assert.deepEqual(codes(workloadBreaches({ cluster: tainted, workload, policy: undefined, at })), ["Tainted"]);
    // core/v1 matching, table-driven.
    const taint = { key: "k", value: "v", effect: "NoExecute" as const };
    const table: [Parameters<typeof toleratesTaint>[0], boolean][] = [
      [{ operator: "Exists" }, true],
      [{ operator: "Equal" }, false],
      [{ key: "k", operator: "Exists" }, true],
      [{ key: "k", value: "v" }, true],
      [{ key: "k", value: "w" }, false],
      [{ key: "other", operator: "Exists" }, false],
      [{ key: "k", operator: "Exists", effect: "NoSchedule" }, false],
      [{ key: "k", operator: "Exists", effect: "NoExecute" }, true],
    ];
    for (const [toleration, expected] of table) assert.equal(toleratesTaint(toleration, taint), expected, JSON.stringify(toleration));
  });

  it("judges an object by its own requirement annotations against the host's facts (the guard's view)", function () {
    const annotations = {
      [REQUIREMENT_ANNOTATIONS.allowedCountries]: "FR",
      [REQUIREMENT_ANNOTATIONS.requiredCertifications]: "HDS",
      [REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure]: "true",
    };
    assert.deepEqual(codes(annotationBreaches({ cluster: german, annotations, at })), ["CountryNotAllowed", "MissingCertification"]);
    assert.equal(annotationBreaches({ cluster: exposed, annotations, at }).length, 3);
    assert.deepEqual(annotationBreaches({ cluster: french, annotations, at }), []);
    assert.deepEqual(annotationBreaches({ cluster: german, annotations: {}, at }), []);
    assert.deepEqual(codes(annotationBreaches({ cluster: french, annotations: { [REQUIREMENT_ANNOTATIONS.allowedJurisdictions]: "EEA" }, at })), ["JurisdictionNotAllowed"]);
  });

  it("knows which audited API servers a stopped component takes down", function () {
    const members = ["fr", "ovh-par-1"];
    assert.deepEqual(apiServersOf("kube-apiserver-ovh-par-1", members), ["ovh-par-1"]);
    assert.deepEqual(apiServersOf("kube-apiserver (fr)", members), ["fr"]);
    assert.deepEqual(apiServersOf("kube-apiserver-host", members), ["host"]);
    assert.deepEqual(apiServersOf("etcd", members), ["host", "fr", "ovh-par-1"]);
    assert.deepEqual(apiServersOf("agent-ovh-par-1", members), []);
    assert.deepEqual(apiServersOf("control-plane", members), []);
  });

  it("shares no code with the operator's scheduler (an oracle that calls the code it judges sees none of its bugs)", function () {
    const dir = path.resolve(import.meta.dirname, "../../e2e/support");
    const importsOf = (text: string) => [...text.matchAll(/\bfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]!);
    const forbidden = (spec: string) => /operator\/src\/(scheduler|controllers)\b/.test(spec);
    // Positive control: the check sees such an import when there is one.
    assert.ok(importsOf(`import { decide } from "../../../operator/src/scheduler/index.ts";`).some(forbidden));
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    assert.ok(files.includes("auditor.ts") && files.includes("residency.ts"));
    for (const f of files) {
      const bad = importsOf(readFileSync(path.join(dir, f), "utf8")).filter(forbidden);
      assert.deepEqual(bad, [], `${f} imports the operator's decision code`);
    }
  });
});
