import assert from "node:assert/strict";
import { deploymentFor, GONE_STATUS_KEY, isGuardRefusal, statusKey, workloadStatus } from "../../../operator/src/agent/index.ts";
import type { Pod } from "../../../operator/src/kube/index.ts";
import { sampleIntent } from "../../support/samples.ts";

const now = new Date("2026-11-28T10:00:00Z");
const intent = sampleIntent({ replicas: 3, generation: 4 });
const workload = intent.workload!;

function pod(name: string, phase: string, ready: boolean, terminating = false): Pod {
  return {
    metadata: { name, namespace: "health", labels: {}, ...(terminating ? { deletionTimestamp: now.toISOString() } : {}) },
    status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

describe("agent: a workload's status from its Deployment and pods", () => {
  it("reports the generation applied, desired and ready replicas and pods per phase, leaving terminating pods out", () => {
    const d = deploymentFor(intent);
    const s = workloadStatus({ cluster: "fr", workload, deployment: d, pods: [pod("a", "Running", true), pod("b", "Running", false), pod("c", "Pending", false), pod("old", "Running", true, true)], now });
    assert.deepEqual(s, { cluster: "fr", workload, observedGeneration: 4, desiredReplicas: 3, readyReplicas: 1, podPhases: { Running: 2, Pending: 1 }, reportedAt: now, message: "" });
  });

  it("says 0 desired and 0 ready once the Deployment is removed, so the host knows the removal happened", () => {
    const s = workloadStatus({ cluster: "fr", workload, deployment: undefined, pods: [pod("a", "Running", true, true)], now });
    assert.equal(s.desiredReplicas, 0);
    assert.equal(s.readyReplicas, 0);
    assert.deepEqual(s.podPhases, {});
  });

  it("carries the ReplicaSet's FailedCreate (a guard refusal) as the message", () => {
    const d = deploymentFor(intent);
    const refusal = `pods "patient-records-x" is forbidden: ValidatingAdmissionPolicy 'sovereign-residency-guard' with binding 'sovereign-residency-guard' denied request: residency guard: the pod allows countries [FR] but member de is in country DE`;
    d.status = { replicas: 0, readyReplicas: 0, conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: refusal }] };
    const s = workloadStatus({ cluster: "de", workload, deployment: d, pods: [], now });
    assert.equal(s.message, refusal);
    assert.ok(isGuardRefusal(s.message));
    assert.ok(!isGuardRefusal(`pods "x" is forbidden: exceeded quota: compute-resources`));
  });

  it("reports an intent that could not be applied with its generation, replicas and the reason", () => {
    const s = workloadStatus({ cluster: "fr", workload, deployment: undefined, pods: [], error: { message: "spec.template: Invalid value", generation: 9, replicas: 2 }, now });
    assert.equal(s.observedGeneration, 9);
    assert.equal(s.desiredReplicas, 2);
    assert.equal(s.message, "spec.template: Invalid value");
  });

  it("reports the failed intent's generation, not the one the Deployment still runs", () => {
    const d = deploymentFor(sampleIntent({ generation: 4 }));
    const s = workloadStatus({ cluster: "fr", workload, deployment: d, pods: [], error: { message: "spec.template: Invalid value", generation: 9, replicas: 2 }, now });
    assert.equal(s.observedGeneration, 9);
    // Positive control: without the error it is the Deployment's.
    assert.equal(workloadStatus({ cluster: "fr", workload, deployment: d, pods: [], now }).observedGeneration, 4);
  });
});

describe("agent: which status changes are worth a report", () => {
  const base = workloadStatus({ cluster: "fr", workload, deployment: deploymentFor(intent), pods: [pod("a", "Running", true)], now });

  it("differ in desired, ready, observedGeneration or the error, and in nothing else", () => {
    const noise: typeof base = { ...base, reportedAt: new Date(0), podPhases: { Running: 1, Pending: 3 } };
    assert.equal(statusKey(noise), statusKey(base));
    for (const change of [{ desiredReplicas: 9 }, { readyReplicas: 0 }, { observedGeneration: 5 }, { message: "quota exceeded" }]) {
      assert.notEqual(statusKey({ ...base, ...change }), statusKey(base), JSON.stringify(change));
    }
  });

  it("take a workload with nothing on the member as already reported", () => {
    assert.equal(statusKey(workloadStatus({ cluster: "fr", workload, deployment: undefined, pods: [], now })), GONE_STATUS_KEY);
    assert.notEqual(statusKey(base), GONE_STATUS_KEY);
  });
});
