// Tests written from a mutation review of the MemberCluster desired step: each fails on a
// one-line change the other tests let through (named in its comment).
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { clusterDesired } from "../../../../operator/src/controllers/membercluster/desired.ts";
import { memberCluster, NOW } from "../../../support/builders.ts";

const timing = { intervalMs: 5000, misses: 3 };
const hb = (agoMs: number, allocatable = { cpu: "8", memory: "32Gi", pods: "110" }) => ({
  heartbeat: { cluster: "ovh-par-1", agentVersion: "t", allocatable, sentAt: new Date(0), sequence: 1, guardDrift: [] },
  receivedAt: new Date(NOW - agoMs),
});
const ready = (s: ReturnType<typeof clusterDesired>) => s.status.conditions?.find((c) => c.type === "Ready");

describe("MemberCluster desired step: what it keeps and what it drops", () => {
  it("rewrites the Ready message when the reason changes, even with the same status", () => {
    // NoHeartbeat -> HeartbeatMissed are both False; the old message would be wrong.
    const cluster = memberCluster({ status: { conditions: [{ type: "Ready", status: "False", reason: "NoHeartbeat", message: "no heartbeat received from the member agent", lastTransitionTime: "2026-11-27T00:00:00Z" }] } });
    const s = clusterDesired({ cluster, last: hb(60_000), timing, now: new Date(NOW) });
    assert.equal(ready(s)?.reason, "HeartbeatMissed");
    assert.match(ready(s)?.message ?? "", /no heartbeat for 60s/);
    // Positive control: same status and reason keep the previous message (no write per heartbeat).
    const again = clusterDesired({ cluster: { ...cluster, status: s.status }, last: hb(70_000), timing, now: new Date(NOW) });
    assert.equal(ready(again)?.message, ready(s)?.message);
  });

  it("leaves out an allocatable resource the agent reported empty", () => {
    const s = clusterDesired({ cluster: memberCluster({ status: null }), last: hb(1000, { cpu: "8", memory: "", pods: "110" }), timing, now: new Date(NOW) });
    assert.deepEqual(s.status.allocatable, { cpu: "8", pods: "110" });
  });

  it("keeps the last allocatable and lastHeartbeatTime it knew when no heartbeat is at hand (a control-plane restart)", () => {
    const cluster = memberCluster({ status: { allocatable: { cpu: "4", memory: "8Gi", pods: "20" }, lastHeartbeatTime: "2026-11-27T23:59:00Z", conditions: [] } });
    const s = clusterDesired({ cluster, last: undefined, timing, now: new Date(NOW) });
    assert.deepEqual(s.status.allocatable, { cpu: "4", memory: "8Gi", pods: "20" });
    assert.equal(s.status.lastHeartbeatTime, "2026-11-27T23:59:00Z");
    assert.equal(ready(s)?.status, "False");
  });

  it("does not requeue at once for a certification entry that ends exactly now, only for the next end ahead", () => {
    // NOW is 2026-11-28T00:00Z: the entry valid until 2026-11-27 has just stopped counting.
    const cluster = memberCluster({ status: null, residency: { certifications: [{ name: "HDS", validUntil: "2026-11-27" }, { name: "C5", validUntil: "2026-11-29" }] } });
    const s = clusterDesired({ cluster, last: undefined, timing, now: new Date(NOW) });
    assert.deepEqual(s.status.validCertifications, ["C5"]);
    assert.equal(s.requeueAfterMs, Date.parse("2026-11-30T00:00:00Z") - NOW);
  });
});
