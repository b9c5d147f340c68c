// Residency under failover, pinned by fixed examples rather than by luck. Each of the first
// two groups fails on a one-line mutant of the planning that is a real residency bug:
//   (a) the same-country failover sub-request keeping only `allowedCountries: [country]`
//       and dropping the workload's own constraints (plan.ts, subRequest);
//   (b) Duplicated mode ignoring `crossBorderFailover: false` (plan.ts, the lost groups).
// The last group is the case seen live in issue 13, where Explain disagreed with the
// controller about a NotReady holder within its toleration.
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { ClusterPlacement, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { desired } from "../../../../operator/src/controllers/workload/desired.ts";
import {
  decideWorkload, explainWorkload, fileSystemReader, loadInputs, planWorkload, type WorkloadDecision,
} from "../../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, sovereignWorkload } from "../../../support/builders.ts";

const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function cluster({ name, country = "FR", hds = true, exposed = false, downSince }: { name: string; country?: "FR" | "DE"; hds?: boolean; exposed?: boolean; downSince?: number }): MemberCluster {
  return memberCluster({
    name,
    residency: {
      country, region: `${country.toLowerCase()}-1`,
      extraterritorialExposure: exposed ? ["US-CLOUD-Act"] : [],
      certifications: hds ? [{ name: "HDS", validUntil: "2027-12-31" }] : [],
    },
    taints: [],
    status: {
      conditions: [{ type: "Ready", status: downSince === undefined ? "True" : "False", reason: "", message: "", lastTransitionTime: at(downSince ?? NOW - 3_600_000) }],
      allocatable: { cpu: "64", memory: "256Gi", pods: "110" },
    },
  });
}

/** Allowed in FR and DE, HDS and no exposure required, failover after 30 s. */
function workload({ replicas, mode = "Divided", maxClusters, crossBorder, placements }: {
  replicas: number; mode?: "Divided" | "Duplicated"; maxClusters?: number; crossBorder: boolean; placements: [string, "FR" | "DE", number][];
}): SovereignWorkload {
  return sovereignWorkload({
    name: "records",
    spec: {
      replicas,
      placement: { mode, ...(maxClusters !== undefined ? { maxClusters } : {}) },
      failover: { enabled: true, tolerationSeconds: 30 },
      residency: { allowedCountries: ["FR", "DE"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true, crossBorderFailover: crossBorder },
    },
    status: { placements: placements.map(([c, country, replicas]): ClusterPlacement => ({ cluster: c, country, replicas })) },
  });
}

const plan = (w: SovereignWorkload, clusters: MemberCluster[]): WorkloadDecision => planWorkload({ workload: w, clusters, used: new Map(), now: NOW });
const on = (d: { placements: readonly { cluster: string; replicas: number }[] }) => Object.fromEntries(d.placements.map((p) => [p.cluster, p.replicas]));
const lostSince = NOW - 60_000;

describe("planning: a same-country failover keeps every constraint of the workload (mutant a)", () => {
  const holders: [string, "FR" | "DE", number][] = [["fr-1", "FR", 2], ["de-1", "DE", 2]];
  const w = workload({ replicas: 4, crossBorder: false, placements: holders });
  const base = [cluster({ name: "fr-1", downSince: lostSince }), cluster({ name: "de-1", country: "DE" })];

  it("does not fail over to a French cluster without the HDS the workload requires: the replicas stay where they are", () => {
    const d = plan(w, [...base, cluster({ name: "fr-2", hds: false })]);
    assert.deepEqual(on(d), { "de-1": 2, "fr-1": 2 });
    assert.equal(d.scheduled, false);
    assert.equal(d.reason, "NoCompliantCluster");
    assert.deepEqual(d.rejected.find((r) => r.cluster === "fr-2")?.reasons, ["MissingCertification"]);
  });

  it("does not fail over to an exposed French cluster when the workload forbids exposure", () => {
    const d = plan(w, [...base, cluster({ name: "fr-2", exposed: true })]);
    assert.deepEqual(on(d), { "de-1": 2, "fr-1": 2 });
    assert.deepEqual(d.rejected.find((r) => r.cluster === "fr-2")?.reasons, ["ExtraterritorialExposure"]);
  });

  it("fails over to the compliant French cluster, not to the roomier non-compliant ones (positive control)", () => {
    const roomy = (c: MemberCluster): MemberCluster => ({ ...c, status: { ...c.status, allocatable: { cpu: "512", memory: "2048Gi", pods: "1000" } } });
    const d = plan(w, [...base, roomy(cluster({ name: "fr-2", hds: false })), roomy(cluster({ name: "fr-3", exposed: true })), cluster({ name: "fr-4" })]);
    assert.deepEqual(on(d), { "de-1": 2, "fr-4": 2 });
    assert.deepEqual(d.failedOver.map((f) => [f.from.cluster, f.to.map((t) => t.cluster)]), [["fr-1", ["fr-4"]]]);
  });
});

describe("planning: a Duplicated copy fails over within its country when crossBorderFailover is false (mutant b)", () => {
  const holders: [string, "FR" | "DE", number][] = [["fr-1", "FR", 2], ["de-1", "DE", 2]];
  const clusters = [cluster({ name: "fr-1", downSince: lostSince }), cluster({ name: "de-1", country: "DE" }), cluster({ name: "de-2", country: "DE" })];

  it("keeps a lost French copy where it is rather than replace it in Germany", () => {
    const d = plan(workload({ replicas: 2, mode: "Duplicated", maxClusters: 2, crossBorder: false, placements: holders }), clusters);
    assert.deepEqual(on(d), { "de-1": 2, "fr-1": 2 });
    assert.equal(d.scheduled, false);
    assert.deepEqual(d.failedOver, []);
  });

  it("replaces it in France when a French cluster can take it", () => {
    const d = plan(workload({ replicas: 2, mode: "Duplicated", maxClusters: 2, crossBorder: false, placements: holders }), [...clusters, cluster({ name: "fr-2" })]);
    assert.deepEqual(on(d), { "de-1": 2, "fr-2": 2 });
  });

  it("replaces it in Germany when the workload allows cross-border failover (positive control)", () => {
    const d = plan(workload({ replicas: 2, mode: "Duplicated", maxClusters: 2, crossBorder: true, placements: holders }), clusters);
    assert.deepEqual(on(d), { "de-1": 2, "de-2": 2 });
  });
});

describe("planning: the case seen live (issue 13): a NotReady holder within its toleration", () => {
  // The examples' federation; a workload allowed in France and Germany with 4 replicas
  // and tolerationSeconds 180, placed ionos-fra-1 1, ovh-par-1 1, ovh-rbx-hds 2, when
  // ionos-fra-1 stops sending heartbeats.
  async function live(downFor: number) {
    const inputs = await loadInputs({ paths: ["crds/examples/"], reader: fileSystemReader });
    const now = Date.parse("2026-11-28T10:00:00Z");
    const clusters = inputs.clusters.map((c) => c.metadata.name !== "ionos-fra-1" ? c : {
      ...c, status: { ...c.status, conditions: [{ type: "Ready", status: "False" as const, reason: "HeartbeatMissed", message: "", lastTransitionTime: at(now - downFor) }] },
    });
    const base = sovereignWorkload({
      name: "crm-live", namespace: "customers",
      spec: {
        replicas: 4, residencyPolicy: "personal-data-eu", residency: { allowedCountries: ["FR", "DE"] }, placement: { mode: "Divided" },
        failover: { enabled: true, tolerationSeconds: 180 },
      },
      status: { placements: [{ cluster: "ionos-fra-1", country: "DE", replicas: 1 }, { cluster: "ovh-par-1", country: "FR", replicas: 1 }, { cluster: "ovh-rbx-hds", country: "FR", replicas: 2 }] },
    });
    const workload: SovereignWorkload = { ...base, metadata: { ...base.metadata, uid: "uid-live", resourceVersion: "1" } };
    const policy = inputs.policies.find((p) => p.metadata.name === "personal-data-eu") as ResidencyPolicy;
    const workloads = [...inputs.workloads, workload];
    const explained = explainWorkload({ workload, clusters, policies: inputs.policies, workloads, now });
    const controller = desired({
      workload, policy, clusters, reports: new Map(), now: new Date(now), decidedBy: "control-plane/test", removalAcknowledged: new Set(),
      // What the other example workloads take: their status (none placed in the files).
      used: new Map(),
    });
    return { explained, controller, core: decideWorkload({ workload, clusters, policies: inputs.policies, workloads, now }) };
  }

  it("Explain keeps ionos-fra-1's replica there, as the controller does, and does not list it as rejected", async () => {
    const { explained, controller } = await live(60_000);
    const where = { "ionos-fra-1": 1, "ovh-par-1": 1, "ovh-rbx-hds": 2 };
    assert.deepEqual(on(explained), where);
    assert.deepEqual(on(controller), where);
    assert.equal(explained.scheduled, true);
    assert.ok(!explained.rejected.some((r) => r.cluster === "ionos-fra-1"));
    assert.deepEqual(explained.holders.find((h) => h.cluster === "ionos-fra-1")?.state, "Held");
  });

  it("the core alone (what Explain ran before) rejects it as NotReady and moves the replica (positive control), as both now do once the toleration is over", async () => {
    const { core } = await live(60_000);
    assert.deepEqual(core.rejected.find((r) => r.cluster === "ionos-fra-1")?.reasons, ["NotReady"]);
    assert.ok(!core.placements.some((p) => p.cluster === "ionos-fra-1"));
    const after = await live(180_000);
    assert.ok(!after.explained.placements.some((p) => p.cluster === "ionos-fra-1"));
    assert.deepEqual(on(after.explained), on(after.controller));
    assert.equal(after.explained.placements.reduce((n, p) => n + p.replicas, 0), 4);
  });
});
