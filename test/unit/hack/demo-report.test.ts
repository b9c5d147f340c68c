import assert from "node:assert/strict";
import { clusterTable, placementTable, progressLine, settled, workloadPhase, type WorkloadObject } from "../../../hack/lib/demo/report.ts";

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

describe("demo report from live status (hack/lib/demo/report.ts)", () => {
  it("tells Pending (no status, or status of an older generation), Progressing, Ready and Unschedulable apart", () => {
    assert.equal(workloadPhase({ metadata: { name: "a" }, spec: { replicas: 1 } }), "Pending");
    assert.equal(workloadPhase(stale), "Pending", "status of generation 2 says nothing about generation 3");
    assert.equal(workloadPhase(records), "Progressing");
    assert.equal(workloadPhase(ready), "Ready");
    assert.equal(workloadPhase(nowhere), "Unschedulable");
  });

  it("stops waiting once every workload is Ready or Unschedulable, not before", () => {
    assert.equal(settled([ready, nowhere]), true);
    assert.equal(settled([ready, records]), false);
    assert.equal(settled([ready, stale]), false);
  });

  it("prints ready/desired per workload while waiting, with the reason of an unschedulable one", () => {
    assert.match(progressLine(records), /^health\/patient-records\s+3\/4 ready\s+Progressing$/);
    assert.match(progressLine(nowhere), /0\/2 ready\s+Unschedulable: NoCompliantCluster$/);
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
