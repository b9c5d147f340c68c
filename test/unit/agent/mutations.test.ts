// Tests written from a mutation review of the agent's pure logic: each fails on a one-line
// change the other agent tests let through (named in its comment).
import assert from "node:assert/strict";
import { appliedFrom, deploymentFor, planIntent, workloadStatus } from "../../../operator/src/agent/index.ts";
import { MEMBER_LABELS } from "../../../operator/src/api/index.ts";
import { sampleIntent } from "../../support/samples.ts";

const T0 = new Date("2026-11-28T10:00:00Z");

describe("agent: intents at the edges of staleness and ownership", () => {
  it("applies an intent decided at exactly the newest instant handled (a redelivery), and ignores one a millisecond older", () => {
    const intent = sampleIntent({ decidedAt: T0 });
    assert.deepEqual(planIntent({ intent, current: undefined, lastHandledAt: T0.getTime() }), { action: "apply" });
    assert.deepEqual(planIntent({ intent, current: undefined, lastHandledAt: T0.getTime() + 1 }), { action: "stale" });
  });

  it("treats a Deployment labelled managed-by the agent but without a workload uid as someone else's", () => {
    const d = deploymentFor(sampleIntent({ decidedAt: T0 }));
    delete d.metadata.labels![MEMBER_LABELS.workloadUid];
    assert.equal(appliedFrom(d), undefined);
    assert.equal(planIntent({ intent: sampleIntent({ decidedAt: new Date(T0.getTime() + 1) }), current: d }).action, "conflict");
  });

  it("builds a Deployment that shares nothing with the intent: changing one never changes the other", () => {
    const intent = sampleIntent({ decidedAt: T0 });
    const before = structuredClone(intent.podTemplate);
    const d = deploymentFor(intent);
    const containers = (t: unknown) => (t as { spec: { containers: { image: string }[] } }).spec.containers;
    containers(d.spec.template)[0]!.image = "changed";
    assert.deepEqual(intent.podTemplate, before);
    // The next Deployment built from the same intent is the original one.
    assert.equal(containers(deploymentFor(intent).spec.template)[0]!.image, "registry.example/records:1.4");
  });
});

describe("agent: status of an intent that could not be applied", () => {
  it("reports the failed intent's generation, not the one the Deployment still runs", () => {
    const d = deploymentFor(sampleIntent({ decidedAt: T0, generation: 4 }));
    const intent = sampleIntent({ generation: 9 });
    const s = workloadStatus({ cluster: "fr", workload: intent.workload!, deployment: d, pods: [], error: { message: "spec.template: Invalid value", generation: 9, replicas: 2 }, now: T0 });
    assert.equal(s.observedGeneration, 9);
    // Positive control: without the error it is the Deployment's.
    assert.equal(workloadStatus({ cluster: "fr", workload: intent.workload!, deployment: d, pods: [], now: T0 }).observedGeneration, 4);
  });
});
