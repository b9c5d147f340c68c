// Tests written from a mutation review of eviction, residency, next-change and stable
// placement: each fails on a one-line change the other scheduler tests let through.
import assert from "node:assert/strict";
import type { MemberCluster } from "../../../operator/src/api/index.ts";
import {
  clusterViewOf, decide, evictionReasons, nextDecisionChange, placementRequestOf, PolicyNotFoundError, residencyRequirementsOf, schedulingInputsOf, type Decision,
} from "../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, residencyPolicy, sovereignWorkload } from "../../support/builders.ts";
import { cluster, request } from "./builders.ts";

const fr = (name: string, extra: Parameters<typeof memberCluster>[0] = {}) => memberCluster({ name, taints: [], ...extra });
const view = (c: MemberCluster) => clusterViewOf({ cluster: c });
const shares = (d: Decision) => d.placements.map((p) => [p.cluster, p.replicas]);

describe("eviction: what must leave now", () => {
  it("evicts from a cluster the workload's clusterSelector no longer matches (positive control: a match stays)", () => {
    const w = sovereignWorkload({ spec: { residency: { clusterSelector: { matchLabels: { tier: "platinum" } } } } });
    const r = placementRequestOf({ workload: w });
    assert.deepEqual(evictionReasons({ cluster: view(fr("a", { labels: { tier: "gold" } })), request: r, now: NOW }), ["SelectorMismatch"]);
    assert.deepEqual(evictionReasons({ cluster: view(fr("a", { labels: { tier: "platinum" } })), request: r, now: NOW }), []);
  });

  it("does not evict for a PreferNoSchedule taint (positive control: NoExecute evicts)", () => {
    // The CRD admits only NoSchedule and NoExecute; the core's views also carry PreferNoSchedule.
    const r = request();
    assert.deepEqual(evictionReasons({ cluster: cluster({ taints: [{ key: "soon", effect: "PreferNoSchedule" }] }), request: r, now: NOW }), []);
    assert.deepEqual(evictionReasons({ cluster: cluster({ taints: [{ key: "soon", effect: "NoExecute" }] }), request: r, now: NOW }), ["Tainted"]);
  });
});

describe("residency requirements: the policy named", () => {
  it("refuses a policy object of another name than the one the workload names", () => {
    const w = sovereignWorkload({ spec: { residencyPolicy: "health" } });
    assert.throws(() => residencyRequirementsOf({ workload: w, policy: residencyPolicy({ name: "finance" }) }), PolicyNotFoundError);
    assert.doesNotThrow(() => residencyRequirementsOf({ workload: w, policy: residencyPolicy({ name: "health" }) }));
  });
});

describe("nextDecisionChange: an end that is now", () => {
  it("skips an entry ending exactly now and gives the next end ahead", () => {
    const now = Date.parse("2026-12-06T00:00:00Z");
    const w = sovereignWorkload({ spec: { residencyPolicy: "health" } });
    const clusters = [fr("a", { residency: { certifications: [{ name: "HDS", validUntil: "2026-12-05" }] } }), fr("b", { residency: { certifications: [{ name: "HDS", validUntil: "2027-01-01" }] } })];
    const { request: r, clusters: views } = schedulingInputsOf({ workload: w, clusters, policies: [residencyPolicy({ name: "health" })], workloads: [], now });
    assert.equal(nextDecisionChange({ clusters: views, request: r, now }), Date.parse("2027-01-02T00:00:00Z"));
  });
});

describe("stable placement: re-dividing over the clusters held", () => {
  const ab = [cluster({ name: "a" }), cluster({ name: "b" })];
  it("a scale-down takes a tied replica from the later cluster by name", () => {
    assert.deepEqual(shares(decide({ clusters: ab, request: request({ replicas: 3, current: [{ cluster: "a", replicas: 2 }, { cluster: "b", replicas: 2 }] }), now: NOW })), [["a", 2], ["b", 1]]);
  });

  it("a scale-up adds replicas in proportion to each held cluster's room", () => {
    const room = [cluster({ name: "a", free: { cpuMilli: 64_000, memoryBytes: 2 ** 38, pods: 10 } }), cluster({ name: "b", free: { cpuMilli: 64_000, memoryBytes: 2 ** 38, pods: 2 } })];
    assert.deepEqual(shares(decide({ clusters: room, request: request({ replicas: 6, current: [{ cluster: "a", replicas: 1 }, { cluster: "b", replicas: 1 }] }), now: NOW })), [["a", 5], ["b", 1]]);
  });

  it("a current entry with zero replicas is not a cluster held", () => {
    const d = decide({ clusters: ab, request: request({ replicas: 2, current: [{ cluster: "a", replicas: 2 }, { cluster: "b", replicas: 0 }] }), now: NOW });
    assert.deepEqual(shares(d), [["a", 2]]);
    assert.ok(d.unselected.some((u) => u.cluster === "b" && u.reason === "PlacementKept"), JSON.stringify(d.unselected));
  });
});
