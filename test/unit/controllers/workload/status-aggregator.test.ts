import assert from "node:assert/strict";
import { describe, it } from "mocha";
import pino from "pino";
import type { SovereignWorkload, SovereignWorkloadStatus } from "../../../../operator/src/api/index.ts";
import type { MemberReport } from "../../../../operator/src/controllers/reports.ts";
import { aggregateStatus, ReconcilesToReady, StatusAggregator } from "../../../../operator/src/controllers/workload/status-aggregator.ts";
import { ConflictError } from "../../../../operator/src/kube/index.ts";
import { noopSovereignMetrics } from "../../../../operator/src/metrics/index.ts";
import { IndexedStore, systemClock } from "../../../../operator/src/runtime/index.ts";
import { placed, workload } from "./world.ts";

const log = pino({ level: "silent" });
const NOW = new Date("2026-11-28T00:00:00Z");
const report = (desiredReplicas: number, readyReplicas: number): MemberReport => ({ desiredReplicas, readyReplicas, observedGeneration: 1, message: "" });
const cond = (type: string, status: "True" | "False") => ({ type, status, reason: "x", message: "", lastTransitionTime: "2026-11-27T00:00:00Z", observedGeneration: 1 });

/** A workload as the scheduling reconcile left it: placements decided, nothing ready yet. */
function decided(placements = placed(["fr-1", "FR", 2], ["fr-2", "FR", 2])): SovereignWorkload {
  const w = workload({ replicas: 4, placements });
  w.metadata = { ...w.metadata, uid: "u1", generation: 1, resourceVersion: "100" };
  w.status = {
    observedGeneration: 1, replicas: 4, readyReplicas: 0,
    placements: placements.map((p) => ({ ...p, readyReplicas: 0 })),
    conditions: [cond("Scheduled", "True"), cond("Ready", "False"), cond("ResidencyCompliant", "True")],
  };
  return w;
}

const readyOf = (s: SovereignWorkloadStatus | undefined) => s?.conditions?.find((c) => c.type === "Ready");

describe("status aggregation (pure)", () => {
  it("merges the members' ready pods into placements, readyReplicas and Ready", () => {
    const s = aggregateStatus({ workload: decided(), reports: new Map([["fr-1", report(2, 2)], ["fr-2", report(2, 1)]]), now: NOW });
    assert.deepEqual(s?.placements?.map((p) => [p.cluster, p.replicas, p.readyReplicas]), [["fr-1", 2, 2], ["fr-2", 2, 1]]);
    assert.equal(s?.readyReplicas, 3);
    assert.equal(readyOf(s)?.status, "False");
    const all = aggregateStatus({ workload: decided(), reports: new Map([["fr-1", report(2, 2)], ["fr-2", report(2, 2)]]), now: NOW });
    assert.equal(readyOf(all)?.status, "True");
    assert.equal(readyOf(all)?.message, "4/4 replicas ready");
  });

  it("tells the truth: a member running more or fewer pods than its intent shows that number", () => {
    const s = aggregateStatus({ workload: decided(), reports: new Map([["fr-1", report(2, 7)], ["fr-2", report(2, 0)]]), now: NOW });
    assert.deepEqual(s?.placements?.map((p) => p.readyReplicas), [7, 0]);
    assert.equal(s?.readyReplicas, 7);
    assert.equal(readyOf(s)?.status, "False", "7 on one member do not make up for 0 on the other");
  });

  it("keeps the decision's placements, replicas and other conditions as they are", () => {
    const w = decided();
    const s = aggregateStatus({ workload: w, reports: new Map([["fr-1", report(2, 2)]]), now: NOW });
    assert.deepEqual(s?.placements?.map((p) => [p.cluster, p.country, p.replicas]), w.status!.placements!.map((p) => [p.cluster, p.country, p.replicas]));
    assert.equal(s?.replicas, 4);
    assert.deepEqual(s?.conditions?.filter((c) => c.type !== "Ready"), w.status!.conditions!.filter((c) => c.type !== "Ready"));
  });

  it("writes only on change: the same reports again give nothing to write", () => {
    const w = decided();
    const reports = new Map([["fr-1", report(2, 2)], ["fr-2", report(2, 2)]]);
    const s = aggregateStatus({ workload: w, reports, now: NOW });
    assert.ok(s);
    w.status = s;
    assert.equal(aggregateStatus({ workload: w, reports, now: new Date(NOW.getTime() + 60_000) }), undefined);
  });

  it("writes nothing before the first decision or while the workload is being deleted", () => {
    const fresh = workload();
    assert.equal(aggregateStatus({ workload: fresh, reports: new Map([["fr-1", report(2, 2)]]), now: NOW }), undefined);
    const deleting = decided();
    deleting.metadata.deletionTimestamp = "2026-11-28T00:00:00Z";
    assert.equal(aggregateStatus({ workload: deleting, reports: new Map([["fr-1", report(2, 2)]]), now: NOW }), undefined);
  });
});

/** The API server's optimistic concurrency, in miniature: a write names the version it read. */
function fakeServer(initial: SovereignWorkload) {
  let current = structuredClone(initial);
  let rv = Number(initial.metadata.resourceVersion);
  const writes: SovereignWorkloadStatus[] = [];
  return {
    get current() { return current; },
    writes,
    /** Another writer (the scheduling reconcile) replaces the status. */
    decide(status: SovereignWorkloadStatus) {
      current = { ...structuredClone(current), status, metadata: { ...current.metadata, resourceVersion: String(++rv) } };
    },
    host: {
      async updateSovereignWorkloadStatus(p: { status: SovereignWorkloadStatus | undefined; resourceVersion: string }) {
        if (p.resourceVersion !== current.metadata.resourceVersion) throw new ConflictError("SovereignWorkload ns/app status: the object has been modified");
        writes.push(p.status!);
        current = { ...structuredClone(current), status: p.status, metadata: { ...current.metadata, resourceVersion: String(++rv) } };
        return { resourceVersion: String(rv) };
      },
    },
  };
}

function aggregator(params: { server: ReturnType<typeof fakeServer>; cache: IndexedStore<SovereignWorkload>; reports: Map<string, MemberReport>; toReady?: ReconcilesToReady }) {
  return new StatusAggregator({
    workloads: params.cache, reports: { reportsOf: () => params.reports }, host: params.server.host, clock: systemClock, log,
    ...(params.toReady ? { toReady: params.toReady } : {}),
  });
}

describe("StatusAggregator", () => {
  it("writes the merged status once, and not again for the same reports", async () => {
    const w = decided();
    const server = fakeServer(w);
    const cache = new IndexedStore<SovereignWorkload>();
    cache.set("ns/app", w);
    const reports = new Map([["fr-1", report(2, 2)], ["fr-2", report(2, 2)]]);
    const a = aggregator({ server, cache, reports });
    assert.deepEqual(await a.reconcile("ns/app"), {});
    assert.equal(server.writes.length, 1);
    cache.set("ns/app", server.current); // the echo
    await a.reconcile("ns/app");
    assert.equal(server.writes.length, 1);
    assert.equal(readyOf(server.current.status)?.status, "True");
  });

  it("never writes stale placements over a newer decision: the write is refused, and the merge is redone on the new version", async () => {
    const w = decided();
    const server = fakeServer(w);
    const cache = new IndexedStore<SovereignWorkload>();
    cache.set("ns/app", w);
    // A newer decision moved fr-2's replicas to de-1; the cache has not seen it yet.
    server.decide({ ...structuredClone(w.status!), placements: [...placed(["de-1", "DE", 2], ["fr-1", "FR", 2])].map((p) => ({ ...p, readyReplicas: 0 })) });
    const reports = new Map([["fr-1", report(2, 2)], ["fr-2", report(2, 2)]]);
    const a = aggregator({ server, cache, reports });
    const result = await a.reconcile("ns/app");
    assert.ok(result.requeueAfterMs !== undefined && result.requeueAfterMs > 0);
    assert.equal(server.writes.length, 0);
    assert.deepEqual(server.current.status?.placements?.map((p) => p.cluster), ["de-1", "fr-1"], "the newer decision stands");
    // Positive control: on the new version the merge goes through and keeps its placements.
    cache.set("ns/app", server.current);
    await a.reconcile("ns/app");
    assert.equal(server.writes.length, 1);
    assert.deepEqual(server.current.status?.placements?.map((p) => [p.cluster, p.readyReplicas]), [["de-1", 0], ["fr-1", 2]]);
  });

  it("observes the scheduling reconciles a workload took once, when it first turns Ready", async () => {
    const observed: number[] = [];
    const toReady = new ReconcilesToReady({ ...noopSovereignMetrics, reconcilesToReady: ({ count }) => void observed.push(count) });
    toReady.scheduled("u1");
    toReady.scheduled("u1");
    const w = decided();
    const server = fakeServer(w);
    const cache = new IndexedStore<SovereignWorkload>();
    cache.set("ns/app", w);
    const reports = new Map([["fr-1", report(2, 2)], ["fr-2", report(2, 1)]]);
    const a = aggregator({ server, cache, reports, toReady });
    await a.reconcile("ns/app");
    assert.deepEqual(observed, [], "not Ready yet");
    reports.set("fr-2", report(2, 2));
    cache.set("ns/app", server.current);
    await a.reconcile("ns/app");
    cache.set("ns/app", server.current);
    await a.reconcile("ns/app");
    toReady.scheduled("u1");
    assert.deepEqual(observed, [2]);
    toReady.forget("u1");
    assert.equal(toReady.size, 0);
  });
});
