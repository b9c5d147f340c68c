import assert from "node:assert/strict";
import {
  clusterTable, memberReadiness, memberWaitLine, placementTable, progressLine, settled, waitedMembers, waitSummary, workloadDone, workloadPhase,
  type MemberClusterObject, type WorkloadObject,
} from "../../../hack/lib/demo/report.ts";

const cond = (type: string, status: string, reason = "R", message = "") => ({ type, status, reason, message });

const records: WorkloadObject = {
  metadata: { name: "patient-records", namespace: "health", generation: 2 },
  spec: { replicas: 4, residencyPolicy: "health-fr-hds" },
  status: {
    observedGeneration: 2, replicas: 4, readyReplicas: 3,
    conditions: [cond("Scheduled", "True", "Scheduled"), cond("Ready", "False", "Progressing")],
    placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 2, readyReplicas: 2 }, { cluster: "ovh-rbx-hds", country: "FR", replicas: 2, readyReplicas: 1 }],
    rejectedClusters: [{ cluster: "aws-fra-1", reasons: ["CountryNotAllowed", "ExtraterritorialExposure"] }, { cluster: "ionos-fra-1", reasons: ["CountryNotAllowed"] }],
  },
};
const nowhere: WorkloadObject = {
  metadata: { name: "nowhere", namespace: "x", generation: 1 },
  spec: { replicas: 2, residencyPolicy: "impossible", residency: { allowedCountries: ["IT"] } },
  status: { observedGeneration: 1, conditions: [cond("Scheduled", "False", "NoCompliantCluster")], rejectedClusters: [{ cluster: "ovh-par-1", reasons: ["CountryNotAllowed"] }] },
};
const ready: WorkloadObject = { ...records, status: { ...records.status!, readyReplicas: 4, conditions: [cond("Scheduled", "True"), cond("Ready", "True")] } };
const stale: WorkloadObject = { ...ready, metadata: { ...ready.metadata, generation: 3 } };
const AGENTS = ["ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1"];
const unschedulable = (name: string, rejected: { cluster: string; reasons: string[] }[]): WorkloadObject => ({
  metadata: { name, namespace: "y", generation: 1 },
  spec: { replicas: 4, residencyPolicy: "personal-data-eu" },
  status: { observedGeneration: 1, conditions: [cond("Scheduled", "False", "NoCompliantCluster")], rejectedClusters: rejected },
});
// crm before ionos-fra-1's first heartbeat: the German cluster it needs is only NotReady.
const startingMember = unschedulable("crm", [{ cluster: "ionos-fra-1", reasons: ["NotReady"] }, { cluster: "aws-fra-1", reasons: ["ExtraterritorialExposure"] }]);
const onlyAgentless = unschedulable("de", [{ cluster: "stackit-eu01", reasons: ["NotReady"] }, { cluster: "aws-fra-1", reasons: ["ExtraterritorialExposure"] }]);
const notReadyAndForbidden = unschedulable("it", [{ cluster: "ionos-fra-1", reasons: ["NotReady", "CountryNotAllowed"] }]);
const twoStarting = unschedulable("two", [{ cluster: "ovh-par-1", reasons: ["NotReady"] }, { cluster: "ionos-fra-1", reasons: ["NotReady"] }]);

describe("demo report from live status (hack/lib/demo/report.ts)", () => {
  it("tells Pending (no status, or status of an older generation), Progressing, Ready and Unschedulable apart", () => {
    assert.equal(workloadPhase({ metadata: { name: "a" }, spec: { replicas: 1 } }), "Pending");
    assert.equal(workloadPhase(stale), "Pending", "status of generation 2 says nothing about generation 3");
    assert.equal(workloadPhase(records), "Progressing");
    assert.equal(workloadPhase(ready), "Ready");
    assert.equal(workloadPhase(nowhere), "Unschedulable");
  });

  it("stops waiting once every workload is done, not before, and never on an empty list", () => {
    assert.equal(settled([ready, nowhere], AGENTS), true);
    assert.equal(settled([ready, records], AGENTS), false);
    assert.equal(settled([ready, stale], AGENTS), false);
    assert.equal(settled([ready, startingMember], AGENTS), false);
    assert.equal(settled([], AGENTS), false, "nothing applied yet is not everything Ready");
  });

  describe("a workload is done when Ready, or unschedulable for a reason no agent member's readiness will change", () => {
    const table: { name: string; w: WorkloadObject; done: boolean; waits?: string[] }[] = [
      { name: "no status yet", w: { metadata: { name: "a", namespace: "x", generation: 1 }, spec: { replicas: 1 } }, done: false },
      { name: "status of an older generation, even Ready", w: stale, done: false },
      { name: "placed, pods still starting", w: records, done: false },
      { name: "Ready", w: ready, done: true },
      { name: "its residency rules out every declared member", w: nowhere, done: true },
      { name: "every compliant cluster NotReady, one of them an agent member still starting", w: startingMember, done: false, waits: ["ionos-fra-1"] },
      { name: "the only compliant cluster NotReady has no agent (never reports here)", w: onlyAgentless, done: true },
      { name: "an agent member NotReady AND outside the residency: it could not use it anyway", w: notReadyAndForbidden, done: true },
      { name: "two agent members waited for, named in order", w: twoStarting, done: false, waits: ["ionos-fra-1", "ovh-par-1"] },
    ];
    for (const row of table) {
      it(`${row.name}: ${row.done ? "done" : "keep waiting"}`, () => {
        assert.equal(workloadDone(row.w, AGENTS), row.done);
        assert.deepEqual(waitedMembers(row.w, AGENTS), row.waits ?? []);
      });
    }
  });

  it("prints ready/desired per workload while waiting, with the reason of an unschedulable one and whom it waits for", () => {
    assert.match(progressLine(records, AGENTS), /^health\/patient-records\s+3\/4 ready\s+Progressing$/);
    assert.match(progressLine(nowhere, AGENTS), /0\/2 ready\s+Unschedulable: NoCompliantCluster$/);
    assert.match(progressLine(startingMember, AGENTS), /Unschedulable: NoCompliantCluster, waiting for ionos-fra-1 to be Ready$/);
  });

  describe("the line that ends the wait claims only what happened", () => {
    it("settled: how many are Ready, how long it took, and which are not placed by design and why", () => {
      assert.equal(waitSummary({ workloads: [ready, nowhere], agentMembers: AGENTS, waitedS: 14.2, settledAfterS: 14.2 }),
        "1 of 2 workloads Ready after 14s, 1 cannot be placed in this federation (x/nowhere: NoCompliantCluster)");
      assert.equal(waitSummary({ workloads: [ready], agentMembers: AGENTS, waitedS: 3, settledAfterS: 3 }), "1 of 1 workloads Ready after 3s");
    });

    it("timed out: says NOT settled and names each workload still waited for, with the member it waits on", () => {
      const text = waitSummary({ workloads: [ready, records, startingMember], agentMembers: AGENTS, waitedS: 180 });
      assert.equal(text, "NOT settled after 180s: 1 of 3 workloads Ready; still waiting for health/patient-records Progressing (3/4 ready), y/crm Unschedulable (waits for ionos-fra-1)");
      assert.doesNotMatch(text, /every .* Ready/);
    });

    it("never claims success when the list does not settle, whatever settledAfterS says", () => {
      assert.match(waitSummary({ workloads: [startingMember], agentMembers: AGENTS, waitedS: 0, settledAfterS: 0 }), /^NOT settled after 0s: 0 of 1 workloads Ready/);
    });

    it("no workload at all is said as such, not as success", () => {
      assert.equal(waitSummary({ workloads: [], agentMembers: AGENTS, waitedS: 5, settledAfterS: 5 }), "no SovereignWorkload on the host after 5s: nothing to wait for");
    });
  });

  describe("the wait for agent members", () => {
    const mc = (name: string, ready?: { status: string; reason: string }): MemberClusterObject => ({
      metadata: { name }, spec: {}, ...(ready ? { status: { conditions: [cond("Ready", ready.status, ready.reason)] } } : {}),
    });
    const clusters = [mc("ovh-par-1", { status: "True", reason: "HeartbeatFresh" }), mc("ionos-fra-1"), mc("aws-fra-1", { status: "False", reason: "HeartbeatMissing" }), mc("stackit-eu01")];

    it("counts only agent members, and tells no heartbeat yet, NotReady's reason and no MemberCluster apart", () => {
      const r = memberReadiness(clusters, ["ovh-par-1", "ionos-fra-1", "aws-fra-1", "ovh-rbx-hds"]);
      assert.deepEqual(r.ready, ["ovh-par-1"]);
      assert.deepEqual(r.waiting, [
        { name: "aws-fra-1", why: "HeartbeatMissing" },
        { name: "ionos-fra-1", why: "no heartbeat yet" },
        { name: "ovh-rbx-hds", why: "no MemberCluster on the host" },
      ]);
      assert.deepEqual(memberReadiness(clusters, ["ovh-par-1"]).waiting, [], "stackit-eu01 runs no agent: never waited for");
    });

    it("prints elapsed time, the count, and the members still waited for", () => {
      assert.equal(memberWaitLine({ clusters, agentMembers: ["ovh-par-1", "ionos-fra-1"], elapsedS: 6.4 }), "6s: 1/2 agent members Ready; waiting for ionos-fra-1 (no heartbeat yet)");
      assert.equal(memberWaitLine({ clusters, agentMembers: ["ovh-par-1"], elapsedS: 2 }), "2s: 1/1 agent members Ready");
    });
  });

  it("lists each placement with cluster, country and ready/desired, the data class, and the rejected clusters with reasons", () => {
    const lines = placementTable([records, nowhere]).split("\n");
    assert.match(lines[0]!, /^WORKLOAD\s+DATA CLASS\s+CLUSTER\s+COUNTRY\s+READY\/DESIRED$/);
    assert.match(lines[1]!, /^health\/patient-records\s+health-fr-hds\s+ovh-par-1\s+FR\s+2\/2$/);
    assert.match(lines[2]!, /^\s+ovh-rbx-hds\s+FR\s+1\/2$/);
    assert.equal(lines[3], "    rejected: aws-fra-1 (CountryNotAllowed, ExtraterritorialExposure)");
    assert.equal(lines[4], "              ionos-fra-1 (CountryNotAllowed)");
    assert.match(lines[5]!, /^x\/nowhere\s+impossible \+ inline\s+-\s+-\s+0\/2 \(not placed: NoCompliantCluster\)$/);
    assert.equal(lines[6], "    rejected: ovh-par-1 (CountryNotAllowed)");
  });

  it("says for each member cluster whether it is Ready and why not", () => {
    const text = clusterTable([
      { metadata: { name: "ovh-par-1" }, spec: { residency: { country: "FR", provider: "OVHcloud" } }, status: { conditions: [cond("Ready", "True", "HeartbeatFresh", "last heartbeat 2s ago")] } },
      { metadata: { name: "stackit-eu01" }, spec: { residency: { country: "DE", provider: "STACKIT" } } },
    ]).split("\n");
    assert.match(text[1]!, /^ovh-par-1\s+FR\s+OVHcloud\s+Ready\s+HeartbeatFresh: last heartbeat 2s ago$/);
    assert.match(text[2]!, /^stackit-eu01\s+DE\s+STACKIT\s+NotReady\s+no status yet/);
  });
});
