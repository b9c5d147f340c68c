import assert from "node:assert/strict";
import { REASON_NO_COMPLIANT_CLUSTER, REJECTION_REASONS, type MemberCluster, type ResidencyPolicy, type SovereignWorkload } from "../../../operator/src/api/index.ts";
import { decide, DecisionReason, Reason } from "../../../operator/src/scheduler/index.ts";
import { clusterViewOf, placementRequestOf, PolicyNotFoundError, podRequests, UNDECLARED_EXPOSURE, usedByPlacements } from "../../../operator/src/scheduler/adapt.ts";

const GiB = 2 ** 30;

function memberCluster(overrides: Partial<MemberCluster> = {}): MemberCluster {
  return {
    apiVersion: "sovereignty.eu/v1alpha1",
    kind: "MemberCluster",
    metadata: { name: "ovh-par-1", labels: { tier: "gold" } },
    spec: {
      residency: { country: "FR", jurisdiction: "EU", region: "eu-west-par", extraterritorialExposure: [], certifications: [{ name: "HDS", validUntil: "2027-01-01" }] },
      taints: [{ key: "maintenance", effect: "NoSchedule" }],
    },
    status: {
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-11-28T00:00:00Z", reason: "HeartbeatsFresh", message: "" }],
      allocatable: { cpu: "64", memory: "256Gi", pods: "110" },
    },
    ...overrides,
  };
}

function workload(overrides: Partial<SovereignWorkload["spec"]> = {}, status?: SovereignWorkload["status"]): SovereignWorkload {
  return {
    apiVersion: "sovereignty.eu/v1alpha1",
    kind: "SovereignWorkload",
    metadata: { name: "app", namespace: "ns" },
    spec: {
      replicas: 3,
      placement: { mode: "Divided" },
      failover: { enabled: true, tolerationSeconds: 30 },
      template: { spec: { containers: [{ name: "a", image: "x", resources: { requests: { cpu: "500m", memory: "1Gi" } } }] } },
      ...overrides,
    },
    ...(status ? { status } : {}),
  };
}

const policy: ResidencyPolicy = {
  apiVersion: "sovereignty.eu/v1alpha1",
  kind: "ResidencyPolicy",
  metadata: { name: "health" },
  spec: { allowedCountries: ["FR"], requiredCertifications: ["HDS"] },
};

describe("adapters from the API to the scheduler core", () => {
  it("speak the API's rejection reasons, in its order, and its NoCompliantCluster", () => {
    assert.deepEqual(Object.values(Reason), [...REJECTION_REASONS]);
    assert.equal(DecisionReason.NoCompliantCluster, REASON_NO_COMPLIANT_CLUSTER);
  });

  describe("clusterViewOf", () => {
    it("carries the residency facts, taints, labels and Ready condition", () => {
      const v = clusterViewOf({ cluster: memberCluster() });
      assert.equal(v.ready, true);
      assert.equal(v.country, "FR");
      assert.deepEqual(v.certifications, [{ name: "HDS", version: "", validUntil: "2027-01-01" }]);
      assert.deepEqual(v.taints, [{ key: "maintenance", effect: "NoSchedule" }]);
      assert.deepEqual(v.labels, { tier: "gold" });
      assert.deepEqual(v.extraterritorialExposure, []);
    });

    it("treats a cluster whose extraterritorialExposure is absent (stored before it was required) as exposed, so a policy forbidding exposure excludes it", () => {
      const base = memberCluster();
      const { extraterritorialExposure: _e, ...undeclared } = base.spec.residency;
      const cluster = { ...base, spec: { ...base.spec, residency: undeclared } } as unknown as MemberCluster;
      const v = clusterViewOf({ cluster });
      assert.deepEqual(v.extraterritorialExposure, [UNDECLARED_EXPOSURE]);
      const d = decide({ clusters: [v], request: { workload: "ns/app", replicas: 1, mode: "Divided", constraints: [{ forbidExtraterritorialExposure: true }], tolerations: [{ operator: "Exists" }], perReplica: { cpuMilli: 0, memoryBytes: 0 } }, now: Date.parse("2026-11-28T00:00:00Z") });
      assert.equal(d.scheduled, false);
      assert.deepEqual(d.rejected, [{ cluster: "ovh-par-1", reasons: ["ExtraterritorialExposure"] }]);
    });

    it("keeps a declared empty extraterritorialExposure as no exposure", () => {
      const v = clusterViewOf({ cluster: memberCluster() });
      assert.deepEqual(v.extraterritorialExposure, []);
    });

    it("treats a cluster without status as not Ready, with unknown capacity", () => {
      const { status: _s, ...withoutStatus } = memberCluster();
      const v = clusterViewOf({ cluster: withoutStatus });
      assert.equal(v.ready, false);
      assert.equal(v.free, undefined);
    });

    it("treats a Ready condition other than True as not Ready", () => {
      const v = clusterViewOf({ cluster: memberCluster({ status: { conditions: [{ type: "Ready", status: "Unknown", lastTransitionTime: "2026-11-28T00:00:00Z", reason: "NoHeartbeat", message: "" }] } }) });
      assert.equal(v.ready, false);
    });

    it("subtracts what is used from what is allocatable", () => {
      const v = clusterViewOf({ cluster: memberCluster(), used: { cpuMilli: 1_500, memoryBytes: 3 * GiB, pods: 3 } });
      assert.deepEqual(v.free, { cpuMilli: 62_500, memoryBytes: 253 * GiB, pods: 107 });
    });

    it("leaves a resource the cluster does not report unbounded", () => {
      const v = clusterViewOf({ cluster: memberCluster({ status: { allocatable: { pods: "10" } } }) });
      assert.deepEqual(v.free, { cpuMilli: Infinity, memoryBytes: Infinity, pods: 10 });
    });
  });

  describe("placementRequestOf", () => {
    it("puts the policy and the inline constraints both in, for the core to intersect", () => {
      const r = placementRequestOf({ workload: workload({ residencyPolicy: "health", residency: { allowedCountries: ["FR", "DE"] } }), policy });
      assert.deepEqual(r.constraints, [policy.spec, { allowedCountries: ["FR", "DE"] }]);
      assert.equal(r.workload, "ns/app");
    });

    it("refuses to decide when the named policy is not supplied, rather than use the inline constraints alone", () => {
      assert.throws(() => placementRequestOf({ workload: workload({ residencyPolicy: "health", residency: { allowedCountries: ["FR"] } }) }), PolicyNotFoundError);
      assert.throws(() => placementRequestOf({ workload: workload({ residencyPolicy: "health" }), policy: { ...policy, metadata: { name: "other" } } }), PolicyNotFoundError);
    });

    it("maps placement, spread and tolerations", () => {
      const tolerations = [{ key: "maintenance", operator: "Exists" as const }];
      const r = placementRequestOf({
        workload: workload({
          placement: { mode: "Duplicated", maxClusters: 2, spread: { minCountries: 2 } },
          template: { spec: { containers: [{ name: "a", image: "x" }], tolerations } },
        }),
      });
      assert.equal(r.mode, "Duplicated");
      assert.equal(r.maxClusters, 2);
      assert.equal(r.minCountries, 2);
      assert.deepEqual(r.tolerations, tolerations);
      assert.deepEqual(r.perReplica, { cpuMilli: 0, memoryBytes: 0 });
    });
  });

  describe("podRequests", () => {
    it("sums containers, takes the largest init container when larger, and defaults a request to its limit", () => {
      const r = podRequests({
        containers: [
          { name: "a", image: "x", resources: { requests: { cpu: "250m", memory: "256Mi" } } },
          { name: "b", image: "x", resources: { limits: { cpu: "1", memory: "1Gi" } } },
        ],
        initContainers: [{ name: "migrate", image: "x", resources: { requests: { cpu: "2", memory: "64Mi" } } }],
      });
      assert.deepEqual(r, { cpuMilli: 2_000, memoryBytes: 1280 * 2 ** 20 });
    });
  });

  describe("usedByPlacements", () => {
    it("counts other workloads' current placements, not the one being decided", () => {
      const placed = (name: string) => ({ ...workload(), metadata: { name, namespace: "ns" } });
      const a = { ...placed("a"), status: { placements: [{ cluster: "ovh-par-1", country: "FR" as const, replicas: 2 }] } };
      const b = { ...placed("b"), status: { placements: [{ cluster: "ovh-par-1", country: "FR" as const, replicas: 1 }] } };
      const used = usedByPlacements({ workloads: [a, b], exclude: "ns/b" });
      assert.deepEqual(used.get("ovh-par-1"), { cpuMilli: 1_000, memoryBytes: 2 * GiB, pods: 2 });
    });
  });
});
