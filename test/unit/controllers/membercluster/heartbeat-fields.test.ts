import assert from "node:assert/strict";
import { decodeMemberCluster } from "../../../../operator/src/api/index.ts";
import { allocatableOf, clusterDesired } from "../../../../operator/src/controllers/membercluster/desired.ts";
import { memberCluster, NOW } from "../../../support/builders.ts";

const timing = { intervalMs: 5000, misses: 3 };
const beat = (allocatable: { cpu: string; memory: string; pods: string }, agoMs = 1000) => ({
  heartbeat: { cluster: "ovh-par-1", agentVersion: "t", allocatable, sentAt: new Date(0), sequence: 1, guardDrift: [] },
  receivedAt: new Date(NOW - agoMs),
});

describe("heartbeat fields the MemberCluster status takes", () => {
  const previous = { cpu: "8", memory: "32Gi", pods: "110" };
  const rows: { what: string; reported: { cpu: string; memory: string; pods: string }; want: Record<string, string>; rejected: string[] }[] = [
    { what: "valid quantities (the control)", reported: { cpu: "64", memory: "256Gi", pods: "1100" }, want: { cpu: "64", memory: "256Gi", pods: "1100" }, rejected: [] },
    { what: "an empty field (not reported)", reported: { cpu: "64", memory: "", pods: "1100" }, want: { cpu: "64", pods: "1100" }, rejected: [] },
    { what: "cpu that is not a quantity", reported: { cpu: "lots", memory: "256Gi", pods: "1100" }, want: { cpu: "8", memory: "256Gi", pods: "1100" }, rejected: ["allocatable.cpu"] },
    { what: "a 1 MB memory value", reported: { cpu: "64", memory: "9".repeat(1 << 20), pods: "1100" }, want: { cpu: "64", memory: "32Gi", pods: "1100" }, rejected: ["allocatable.memory"] },
    { what: "a quantity with a fractional exponent", reported: { cpu: "64", memory: "256Gi", pods: "1e1.5" }, want: { cpu: "64", memory: "256Gi", pods: "110" }, rejected: ["allocatable.pods"] },
  ];
  for (const r of rows) {
    it(`${r.what}: ${r.rejected.length ? `drops ${r.rejected.join(", ")} and keeps its previous value` : "takes every field"}`, () => {
      const got = allocatableOf({ reported: r.reported, previous });
      assert.deepEqual(got.allocatable, r.want);
      assert.deepEqual(got.rejected.map((x) => x.field), r.rejected);
      for (const x of got.rejected) assert.ok(x.reason.length < 200, "the reason does not carry the whole value");
    });
  }

  it("an invalid allocatable leaves Ready and lastHeartbeatTime moving, and a status the CRD accepts", () => {
    const cluster = memberCluster({ status: { conditions: [], allocatable: previous } });
    const s = clusterDesired({ cluster, last: beat({ cpu: "-not-a-quantity-", memory: "x".repeat(4096), pods: "110" }), timing, now: new Date(NOW) });
    assert.equal(s.status.conditions?.find((c) => c.type === "Ready")?.status, "True");
    assert.ok(s.status.lastHeartbeatTime);
    assert.deepEqual(s.status.allocatable, previous);
    assert.deepEqual(s.rejected.map((r) => r.field), ["allocatable.cpu", "allocatable.memory"]);
    // The status written is one the schema takes (the decoder applies the CRD's rules).
    assert.doesNotThrow(() => decodeMemberCluster({ ...cluster, status: s.status }, { source: "test" }));
    // Positive control: the raw heartbeat's values are refused by the same schema.
    assert.throws(() => decodeMemberCluster({ ...cluster, status: { ...s.status, allocatable: { cpu: "-not-a-quantity-" } } }, { source: "test" }), /allocatable/);
  });
});
