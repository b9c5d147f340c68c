import assert from "node:assert/strict";
import type { MemberCluster } from "../../../../operator/src/api/index.ts";
import { clusterChangeMatters } from "../../../../operator/src/controllers/index.ts";
import { memberCluster } from "../../../support/builders.ts";

// A heartbeat rewrites a MemberCluster's status every few seconds; only a change that can
// move a decision may wake every workload placed there.
describe("which MemberCluster changes wake the workloads placed on it", function () {
  const base = memberCluster({ name: "ovh-par-1" });
  const heartbeat = (c: MemberCluster, at: string): MemberCluster => ({
    ...c,
    status: {
      ...c.status,
      lastHeartbeatTime: at,
      conditions: c.status!.conditions!.map((x) => (x.type === "Ready" ? { ...x, message: `last heartbeat received at ${at}` } : x)),
    },
  });
  const rows: { what: string; next: (c: MemberCluster) => MemberCluster; matters: boolean }[] = [
    { what: "a heartbeat (new lastHeartbeatTime and condition message)", next: (c) => heartbeat(c, "2026-11-28T00:00:05Z"), matters: false },
    { what: "nothing at all (a resync)", next: (c) => structuredClone(c), matters: false },
    { what: "Ready turning False", next: (c) => ({ ...c, status: { ...c.status, conditions: c.status!.conditions!.map((x) => ({ ...x, status: "False" as const })) } }), matters: true },
    { what: "an exposure declared by the admin", next: (c) => ({ ...c, spec: { ...c.spec, residency: { ...c.spec.residency, extraterritorialExposure: ["US-CLOUD-Act"] } } }), matters: true },
    { what: "a NoExecute taint", next: (c) => ({ ...c, spec: { ...c.spec, taints: [{ key: "evacuate", effect: "NoExecute" }] } }), matters: true },
    { what: "a label", next: (c) => ({ ...c, metadata: { ...c.metadata, labels: { ...c.metadata.labels, tier: "silver" } } }), matters: true },
    { what: "allocatable", next: (c) => ({ ...c, status: { ...c.status, allocatable: { cpu: "8", memory: "16Gi", pods: "10" } } }), matters: true },
    { what: "the valid certifications (one expired)", next: (c) => ({ ...c, status: { ...c.status, validCertifications: ["SecNumCloud"] } }), matters: true },
    { what: "deletion", next: (c) => ({ ...c, metadata: { ...c.metadata, deletionTimestamp: "2026-11-28T00:00:09Z" } }), matters: true },
  ];
  for (const row of rows) {
    it(`${row.matters ? "wakes them on" : "ignores"} ${row.what}`, function () {
      assert.equal(clusterChangeMatters(base, row.next(base)), row.matters);
    });
  }
  it("wakes them for a cluster seen for the first time", function () {
    assert.equal(clusterChangeMatters(undefined, base), true);
  });
});
