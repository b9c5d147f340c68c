import assert from "node:assert/strict";
import fc from "fast-check";
import { deploymentFor, planIntent, resyncRemovals } from "../../../operator/src/agent/index.ts";
import type { Deployment } from "../../../operator/src/kube/index.ts";
import { sampleIntent } from "../../support/samples.ts";

const T0 = new Date("2026-11-28T10:00:00Z");
const later = (ms: number) => new Date(T0.getTime() + ms);

function onMember(intent = sampleIntent({ decidedAt: T0 }), uid = "dep-uid"): Deployment {
  const d = deploymentFor(intent);
  d.metadata.uid = uid;
  return d;
}

describe("agent: what one intent does to the member", () => {
  const table: { name: string; intent: ReturnType<typeof sampleIntent>; current: Deployment | undefined; lastHandledAt?: number; want: ReturnType<typeof planIntent> }[] = [
    { name: "applies a first intent", intent: sampleIntent({ decidedAt: T0 }), current: undefined, want: { action: "apply" } },
    { name: "re-applies the same intent (a no-op for the pods)", intent: sampleIntent({ decidedAt: T0 }), current: onMember(), want: { action: "apply" } },
    { name: "applies a newer intent", intent: sampleIntent({ decidedAt: later(1), replicas: 5 }), current: onMember(), want: { action: "apply" } },
    { name: "ignores an intent decided before the applied one", intent: sampleIntent({ decidedAt: later(-1) }), current: onMember(), want: { action: "stale" } },
    { name: "ignores an older intent after a delete (no Deployment left to compare with)", intent: sampleIntent({ decidedAt: later(-1) }), current: undefined, lastHandledAt: T0.getTime(), want: { action: "stale" } },
    { name: "deletes on zero replicas", intent: sampleIntent({ decidedAt: later(1), replicas: 0 }), current: onMember(), want: { action: "delete", deleteUid: "dep-uid" } },
    { name: "does nothing on zero replicas with no Deployment", intent: sampleIntent({ decidedAt: later(1), replicas: 0 }), current: undefined, want: { action: "none" } },
    {
      name: "replaces the Deployment of a deleted and recreated workload of the same name",
      intent: sampleIntent({ decidedAt: later(-5), workload: { namespace: "health", name: "patient-records", uid: "new-uid" } }),
      current: onMember(), want: { action: "replace", deleteUid: "dep-uid" },
    },
    {
      name: "leaves another workload's Deployment alone on a zero intent",
      intent: sampleIntent({ decidedAt: later(1), replicas: 0, workload: { namespace: "health", name: "patient-records", uid: "new-uid" } }),
      current: onMember(), want: { action: "none" },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.deepEqual(planIntent({ intent: row.intent, current: row.current, ...(row.lastHandledAt !== undefined ? { lastHandledAt: row.lastHandledAt } : {}) }), row.want);
    });
  }

  it("never touches a Deployment it does not manage, whatever the intent says", () => {
    const foreign = onMember();
    foreign.metadata.labels = { app: "mine" };
    for (const replicas of [0, 1, 4]) {
      const plan = planIntent({ intent: sampleIntent({ replicas, decidedAt: later(1) }), current: foreign });
      assert.equal(plan.action, "conflict");
      assert.match((plan as { message: string }).message, /health\/patient-records exists and is not managed by the sovereign agent/);
    }
  });

  it("never lets an older intent win over a newer one, in any order of arrival (property)", () => {
    fc.assert(fc.property(fc.array(fc.record({ at: fc.integer({ min: 0, max: 1000 }), replicas: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 12 }), (arrivals) => {
      // Simulate the member: one Deployment or none, and the newest decidedAt handled.
      let current: Deployment | undefined;
      let lastHandledAt: number | undefined;
      for (const a of arrivals) {
        const intent = sampleIntent({ decidedAt: later(a.at), replicas: a.replicas });
        const plan = planIntent({ intent, current, ...(lastHandledAt !== undefined ? { lastHandledAt } : {}) });
        if (plan.action === "stale") continue;
        if (plan.action === "apply") current = onMember(intent);
        if (plan.action === "delete") current = undefined;
        lastHandledAt = Math.max(lastHandledAt ?? 0, intent.decidedAt!.getTime());
      }
      // The outcome is that of the newest intent (the last of them among equal times).
      const newest = Math.max(...arrivals.map((a) => a.at));
      const winners = arrivals.filter((a) => a.at === newest);
      const finalReplicas = current?.spec.replicas ?? 0;
      assert.ok(winners.some((w) => w.replicas === finalReplicas), `ended with ${finalReplicas}, newest intents said ${winners.map((w) => w.replicas)}`);
    }));
  });
});

describe("agent: what a resync removes", () => {
  const a = sampleIntent({ workload: { namespace: "n", name: "a", uid: "uid-a" }, decidedAt: T0 });
  const b = sampleIntent({ workload: { namespace: "n", name: "b", uid: "uid-b" }, decidedAt: T0 });
  const c = sampleIntent({ workload: { namespace: "n", name: "c", uid: "uid-c" }, decidedAt: T0 });

  it("removes managed Deployments whose workload has no intent, keeps those with one", () => {
    const removed = resyncRemovals({ intents: [a], deployments: [onMember(a, "d-a"), onMember(b, "d-b")] });
    assert.deepEqual(removed.map((d) => d.metadata.name), ["b"]);
  });

  it("removes a Deployment whose newest intent has zero replicas", () => {
    const removed = resyncRemovals({ intents: [{ ...a, replicas: 0 }, b], deployments: [onMember(a, "d-a"), onMember(b, "d-b")] });
    assert.deepEqual(removed.map((d) => d.metadata.name), ["a"]);
  });

  it("keeps Deployments it does not manage and those handled since the intents were read", () => {
    const foreign = onMember(c, "d-c");
    foreign.metadata.labels = {};
    const removed = resyncRemovals({ intents: [], deployments: [onMember(a, "d-a"), onMember(b, "d-b"), foreign], protectedUids: new Set(["uid-b"]) });
    assert.deepEqual(removed.map((d) => d.metadata.name), ["a"]);
  });

  it("removes nothing that an intent with replicas asks for (property)", () => {
    const names = ["a", "b", "c", "d", "e"];
    fc.assert(fc.property(fc.subarray(names), fc.subarray(names), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 5, maxLength: 5 }), (withIntent, deployed, replicas) => {
      const intents = withIntent.map((n) => sampleIntent({ workload: { namespace: "n", name: n, uid: `uid-${n}` }, replicas: replicas[names.indexOf(n)]! }));
      const deployments = deployed.map((n) => onMember(sampleIntent({ workload: { namespace: "n", name: n, uid: `uid-${n}` } }), `d-${n}`));
      const removed = new Set(resyncRemovals({ intents, deployments }).map((d) => d.metadata.name));
      for (const n of deployed) {
        const wanted = intents.some((i) => i.workload!.name === n && i.replicas > 0);
        assert.equal(removed.has(n), !wanted, n);
      }
    }));
  });
});
