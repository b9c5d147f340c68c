import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { clusterDesired } from "../../../../operator/src/controllers/membercluster/desired.ts";
import { memberCluster, NOW } from "../../../support/builders.ts";

const timing = { intervalMs: 5000, misses: 3 };
const hb = (agoMs: number) => ({
  heartbeat: { cluster: "ovh-par-1", agentVersion: "t", allocatable: { cpu: "8", memory: "32Gi", pods: "110" }, sentAt: new Date(0), sequence: 1, guardDrift: [] },
  receivedAt: new Date(NOW - agoMs),
});
const ready = (s: ReturnType<typeof clusterDesired>) => s.status.conditions?.find((c) => c.type === "Ready");

describe("MemberCluster desired step", () => {
  const table = [
    { what: "a heartbeat just received", last: hb(1000), status: "True", reason: "HeartbeatFresh" },
    { what: "a heartbeat two intervals old", last: hb(10_000), status: "True", reason: "HeartbeatFresh" },
    { what: "three intervals missed", last: hb(15_000), status: "False", reason: "HeartbeatMissed" },
    { what: "no heartbeat ever", last: undefined, status: "False", reason: "NoHeartbeat" },
  ];
  for (const row of table) {
    it(`is Ready=${row.status} (${row.reason}) with ${row.what}`, () => {
      const s = clusterDesired({ cluster: memberCluster({ status: null }), last: row.last, timing, now: new Date(NOW) });
      assert.equal(ready(s)?.status, row.status);
      assert.equal(ready(s)?.reason, row.reason);
      assert.equal(s.ready, row.status === "True");
    });
  }

  describe("judged only on what the control plane could hear (its own NATS link)", () => {
    const wasReady = () => clusterDesired({ cluster: memberCluster({ status: null }), last: hb(1000), timing, now: new Date(NOW - 20_000) }).status;
    const wasNotReady = () => clusterDesired({ cluster: memberCluster({ status: null }), last: hb(60_000), timing, now: new Date(NOW - 20_000) }).status;
    const rows = [
      { what: "cut off from NATS: a Ready member with a stale heartbeat stays Ready", previous: wasReady, feed: { connected: false, since: new Date(NOW - 600_000) }, status: "True", reason: "ControlPlaneDisconnected" },
      { what: "reconnected 5 s ago: still within the window, Ready kept", previous: wasReady, feed: { connected: true, since: new Date(NOW - 5_000) }, status: "True", reason: "ControlPlaneReconnected" },
      { what: "reconnected a full window ago and still nothing heard: NotReady", previous: wasReady, feed: { connected: true, since: new Date(NOW - 15_000) }, status: "False", reason: "HeartbeatMissed" },
      { what: "positive control, listening all along: NotReady", previous: wasReady, feed: { connected: true, since: new Date(NOW - 600_000) }, status: "False", reason: "HeartbeatMissed" },
      { what: "a member NotReady before is not made Ready by a reconnect", previous: wasNotReady, feed: { connected: true, since: new Date(NOW - 1_000) }, status: "False", reason: "HeartbeatMissed" },
      { what: "a member NotReady before is not made Ready by a disconnect", previous: wasNotReady, feed: { connected: false, since: new Date(NOW - 1_000) }, status: "False", reason: "HeartbeatMissed" },
    ];
    for (const row of rows) {
      it(row.what, () => {
        const s = clusterDesired({ cluster: memberCluster({ status: row.previous() }), last: hb(30_000), timing, now: new Date(NOW), feed: row.feed });
        assert.equal(ready(s)?.status, row.status);
        assert.equal(ready(s)?.reason, row.reason);
        assert.equal(s.ready, row.status === "True");
      });
    }

    it("a fresh heartbeat makes it HeartbeatFresh whatever the link did, and a held member is looked at again when the window ends", () => {
      const fresh = clusterDesired({ cluster: memberCluster({ status: wasReady() }), last: hb(1000), timing, now: new Date(NOW), feed: { connected: true, since: new Date(NOW - 2_000) } });
      assert.equal(ready(fresh)?.reason, "HeartbeatFresh");
      const held = clusterDesired({ cluster: memberCluster({ status: wasReady() }), last: hb(30_000), timing, now: new Date(NOW), feed: { connected: true, since: new Date(NOW - 5_000) } });
      assert.equal(held.requeueAfterMs, 10_000);
    });
  });

  it("times the heartbeat by the control plane's receive time, not the agent's sentAt", () => {
    const last = { ...hb(1000), heartbeat: { ...hb(1000).heartbeat, sentAt: new Date(NOW - 3_600_000) } };
    const s = clusterDesired({ cluster: memberCluster({ status: null }), last, timing, now: new Date(NOW) });
    assert.equal(ready(s)?.status, "True");
    assert.equal(s.status.lastHeartbeatTime, new Date(NOW - 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
  });

  it("requeues when the heartbeat goes stale", () => {
    const s = clusterDesired({ cluster: memberCluster({ status: null }), last: hb(4000), timing, now: new Date(NOW) });
    assert.equal(s.requeueAfterMs, 11_000);
  });

  it("requeues at the next certification expiry when no heartbeat is due", () => {
    const s = clusterDesired({ cluster: memberCluster({ status: null, residency: { certifications: [{ name: "HDS", validUntil: "2026-11-28" }] } }), last: undefined, timing, now: new Date(NOW) });
    assert.equal(s.requeueAfterMs, 86_400_000);
  });

  it("lists only certifications valid now and mirrors residency labels for them only", () => {
    const cluster = memberCluster({ status: null, residency: { certifications: [{ name: "HDS", validUntil: "2026-11-27" }, { name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" }] } });
    const s = clusterDesired({ cluster, last: hb(0), timing, now: new Date(NOW) });
    assert.deepEqual(s.status.validCertifications, ["SecNumCloud"]);
    assert.equal(s.labels["certification.sovereignty.eu/secnumcloud"], "3.2");
    assert.equal(s.labels["certification.sovereignty.eu/hds"], undefined);
    assert.equal(s.labels["residency.sovereignty.eu/country"], "FR");
    assert.equal(s.labels["residency.sovereignty.eu/extraterritorial-exposure"], "none");
  });

  it("takes allocatable from the heartbeat and keeps the Ready transition time while the verdict holds", () => {
    const first = clusterDesired({ cluster: memberCluster({ status: null }), last: hb(0), timing, now: new Date(NOW) });
    assert.deepEqual(first.status.allocatable, { cpu: "8", memory: "32Gi", pods: "110" });
    const again = clusterDesired({ cluster: memberCluster({ status: first.status }), last: hb(0), timing, now: new Date(NOW + 4000) });
    assert.equal(ready(again)?.lastTransitionTime, ready(first)?.lastTransitionTime);
    assert.deepEqual(again.status.conditions, first.status.conditions, "no write needed for a repeated verdict");
  });
});
