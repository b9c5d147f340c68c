import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { IntentAckTracker, showsApplied } from "../../../operator/src/controllers/index.ts";

const intent = (o: { generation?: number; replicas?: number; at?: number; cluster?: string; uid?: string } = {}) => ({
  uid: o.uid ?? "u1", cluster: o.cluster ?? "ovh-par-1", generation: o.generation ?? 3, replicas: o.replicas ?? 2, at: o.at ?? 10_000,
});
const status = (o: { observedGeneration?: number; desiredReplicas?: number; at?: number; cluster?: string; uid?: string; replayed?: boolean } = {}) => ({
  uid: o.uid ?? "u1", cluster: o.cluster ?? "ovh-par-1", observedGeneration: o.observedGeneration ?? 3, desiredReplicas: o.desiredReplicas ?? 2,
  at: o.at ?? 10_750, ...(o.replayed !== undefined ? { replayed: o.replayed } : {}),
});

describe("intent publish-to-applied latency", () => {
  describe("whether a member status shows an intent applied", () => {
    const table = [
      { what: "the same generation and replicas", intent: { generation: 3, replicas: 2 }, status: { observedGeneration: 3, desiredReplicas: 2 }, applied: true },
      { what: "a newer generation with the intent's replicas", intent: { generation: 3, replicas: 2 }, status: { observedGeneration: 4, desiredReplicas: 2 }, applied: true },
      { what: "an older generation", intent: { generation: 3, replicas: 2 }, status: { observedGeneration: 2, desiredReplicas: 2 }, applied: false },
      { what: "other replicas (scale not applied yet)", intent: { generation: 3, replicas: 5 }, status: { observedGeneration: 3, desiredReplicas: 2 }, applied: false },
      { what: "a removal, reported as a Deployment gone (generation 0)", intent: { generation: 3, replicas: 0 }, status: { observedGeneration: 0, desiredReplicas: 0 }, applied: true },
      { what: "a removal while replicas are still desired", intent: { generation: 3, replicas: 0 }, status: { observedGeneration: 3, desiredReplicas: 2 }, applied: false },
      { what: "a Deployment gone while the intent wants replicas", intent: { generation: 3, replicas: 2 }, status: { observedGeneration: 0, desiredReplicas: 0 }, applied: false },
    ];
    for (const row of table) {
      it(`${row.applied ? "counts" : "does not count"} ${row.what}`, () => assert.equal(showsApplied(row.intent, row.status), row.applied));
    }
  });

  it("measures from the publish to the first status showing it applied, once", () => {
    const t = new IntentAckTracker();
    t.published(intent({ at: 10_000 }));
    assert.equal(t.reported(status({ observedGeneration: 2, at: 10_200 })), undefined, "an older generation's report is no ack");
    assert.equal(t.reported(status({ at: 10_750 })), 0.75);
    assert.equal(t.reported(status({ at: 11_000 })), undefined, "a later report of the same state measures nothing");
    assert.equal(t.pending(), 0);
  });

  it("keeps clusters and workloads apart", () => {
    const t = new IntentAckTracker();
    t.published(intent({ cluster: "ovh-par-1", at: 1000 }));
    t.published(intent({ cluster: "ionos-fra-1", at: 2000 }));
    t.published(intent({ uid: "u2", cluster: "ovh-par-1", at: 3000 }));
    assert.equal(t.reported(status({ cluster: "ionos-fra-1", at: 2500 })), 0.5);
    assert.equal(t.reported(status({ uid: "u2", at: 3100 })), 0.1);
    assert.equal(t.pending(), 1, "ovh-par-1's intent for u1 still waits");
    assert.equal(t.reported(status({ at: 4000 })), 3);
  });

  it("measures a superseded intent from the newest publish, and only once the newest is applied", () => {
    const t = new IntentAckTracker();
    t.published(intent({ generation: 3, replicas: 2, at: 1000 }));
    t.published(intent({ generation: 4, replicas: 5, at: 1500 }));
    assert.equal(t.reported(status({ observedGeneration: 3, desiredReplicas: 2, at: 1600 })), undefined);
    assert.equal(t.reported(status({ observedGeneration: 4, desiredReplicas: 5, at: 2000 })), 0.5);
  });

  it("waits for nothing when the member already shows the intent applied (a re-publish after a restart), so a later report is not taken for its ack", () => {
    const t = new IntentAckTracker();
    t.published(intent({ at: 1000 }), { observedGeneration: 3, desiredReplicas: 2 });
    assert.equal(t.pending(), 0);
    assert.equal(t.reported(status({ at: 900_000 })), undefined);
    // Positive control: the same publish without that status waits, and the report measures it.
    t.published(intent({ at: 1000 }), { observedGeneration: 2, desiredReplicas: 2 });
    assert.equal(t.pending(), 1);
    assert.equal(t.reported(status({ at: 2000 })), 1);
  });

  it("settles an intent a replayed report shows applied without measuring it", () => {
    const t = new IntentAckTracker();
    t.published(intent({ at: 1000 }));
    assert.equal(t.reported(status({ at: 60_000, replayed: true })), undefined);
    assert.equal(t.pending(), 0);
    assert.equal(t.reported(status({ at: 70_000 })), undefined, "a later live report of the same state measures nothing");
  });

  it("never reports a negative latency when the clock steps back", () => {
    const t = new IntentAckTracker();
    t.published(intent({ at: 5000 }));
    assert.equal(t.reported(status({ at: 4000 })), 0);
  });
});
