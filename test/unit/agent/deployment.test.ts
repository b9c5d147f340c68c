import assert from "node:assert/strict";
import fc from "fast-check";
import { appliedFrom, deploymentFor, InvalidIntentError, requirementAnnotations } from "../../../operator/src/agent/index.ts";
import { DEPLOYMENT_ANNOTATIONS, MEMBER_LABELS, REQUIREMENT_ANNOTATIONS } from "../../../operator/src/api/index.ts";
import { isTerminal } from "../../../operator/src/runtime/index.ts";
import { sampleIntent } from "../../support/samples.ts";

describe("agent: the Deployment built from an intent", () => {
  it("is named like the workload, in its namespace, selects its pods by workload uid and runs intent.replicas", () => {
    const intent = sampleIntent({ replicas: 3 });
    const d = deploymentFor(intent);
    assert.equal(d.metadata.name, "patient-records");
    assert.equal(d.metadata.namespace, "health");
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(d.spec.selector.matchLabels, { [MEMBER_LABELS.workloadUid]: intent.workload!.uid });
    assert.equal(d.spec.template.metadata?.labels?.[MEMBER_LABELS.workloadUid], intent.workload!.uid);
    assert.equal(d.spec.template.metadata?.labels?.app, "patient-records", "the template's own labels stay");
    assert.equal(d.metadata.labels?.[MEMBER_LABELS.managedBy], "sovereign-agent");
  });

  it("stamps the workload's residency requirements on every pod, as the guard reads them", () => {
    const ann = deploymentFor(sampleIntent()).spec.template.metadata?.annotations ?? {};
    assert.equal(ann[REQUIREMENT_ANNOTATIONS.allowedCountries], "FR");
    assert.equal(ann[REQUIREMENT_ANNOTATIONS.allowedJurisdictions], "EU");
    assert.equal(ann[REQUIREMENT_ANNOTATIONS.requiredCertifications], "HDS");
    assert.equal(ann[REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure], "true");
    assert.deepEqual(requirementAnnotations(undefined), {
      [REQUIREMENT_ANNOTATIONS.allowedCountries]: "", [REQUIREMENT_ANNOTATIONS.allowedJurisdictions]: "",
      [REQUIREMENT_ANNOTATIONS.requiredCertifications]: "", [REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure]: "false",
    });
  });

  it("does not let a template override the workload-uid label or the requirement annotations", () => {
    const intent = sampleIntent();
    intent.podTemplate = { metadata: { labels: { [MEMBER_LABELS.workloadUid]: "someone-else" }, annotations: { [REQUIREMENT_ANNOTATIONS.allowedCountries]: "DE,FR,US" } }, spec: { containers: [] } };
    const t = deploymentFor(intent).spec.template.metadata!;
    assert.equal(t.labels?.[MEMBER_LABELS.workloadUid], intent.workload!.uid);
    assert.equal(t.annotations?.[REQUIREMENT_ANNOTATIONS.allowedCountries], "FR");
  });

  it("keeps the pod template identical across decisions of the same pods (same ReplicaSet, no pod replaced)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1e6 }), fc.date({ noInvalidDate: true }), fc.string(), (replicas, generation, decidedAt, intentId) => {
      const a = deploymentFor(sampleIntent());
      const b = deploymentFor(sampleIntent({ replicas, generation, decidedAt, intentId }));
      assert.deepEqual(b.spec.template, a.spec.template);
    }));
  });

  it("records what it was applied from on the Deployment, and reads it back", () => {
    const intent = sampleIntent({ intentId: "i-1", generation: 7 });
    const d = deploymentFor(intent);
    assert.equal(d.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.generation], "7");
    d.metadata.uid = "deployment-uid";
    assert.deepEqual(appliedFrom(d), { workload: intent.workload, generation: 7, intentId: "i-1", decidedAt: intent.decidedAt!.getTime() });
    assert.equal(appliedFrom({ ...d, metadata: { ...d.metadata, labels: {} } }), undefined, "a Deployment the agent does not manage");
  });

  it("refuses, as terminal, an intent it cannot turn into a Deployment, naming the field", () => {
    const cases: [Partial<Parameters<typeof sampleIntent>[0]>, RegExp][] = [
      [{ workload: undefined }, /intent workload: is missing/],
      [{ workload: { namespace: "Health", name: "x", uid: "u" } }, /workload.namespace: "Health" is not a namespace name/],
      [{ workload: { namespace: "health", name: "x_y", uid: "u" } }, /workload.name/],
      [{ replicas: 0 }, /replicas: 0 is not a positive replica count/],
      [{ podTemplate: { metadata: {} } }, /podTemplate.spec: is missing/],
    ];
    for (const [over, message] of cases) {
      assert.throws(() => deploymentFor(sampleIntent(over)), (err: unknown) => err instanceof InvalidIntentError && message.test(err.message) && isTerminal(err));
    }
  });

  it("shares nothing with the intent: changing the Deployment never changes the intent or the next Deployment", () => {
    const intent = sampleIntent();
    const before = structuredClone(intent.podTemplate);
    const d = deploymentFor(intent);
    const containers = (t: unknown) => (t as { spec: { containers: { image: string }[] } }).spec.containers;
    containers(d.spec.template)[0]!.image = "changed";
    assert.deepEqual(intent.podTemplate, before);
    assert.equal(containers(deploymentFor(intent).spec.template)[0]!.image, "registry.example/records:1.4");
  });

  it("treats a Deployment labelled managed-by the agent but without a workload uid as someone else's", () => {
    const d = deploymentFor(sampleIntent());
    assert.ok(appliedFrom(d));
    delete d.metadata.labels![MEMBER_LABELS.workloadUid];
    assert.equal(appliedFrom(d), undefined);
  });
});
