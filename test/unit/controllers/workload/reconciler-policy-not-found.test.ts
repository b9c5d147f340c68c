import assert from "node:assert/strict";
import { describe, it } from "mocha";
import pino from "pino";
import type { SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { ReportBook } from "../../../../operator/src/controllers/reports.ts";
import { MEMBER_CLEANUP_FINALIZER } from "../../../../operator/src/controllers/workload/finalizer.ts";
import { WorkloadReconciler } from "../../../../operator/src/controllers/workload/reconciler.ts";
import { addWorkloadIndexes } from "../../../../operator/src/controllers/workload/watches.ts";
import { IndexedStore, TestClock } from "../../../../operator/src/runtime/index.ts";
import { SchedulerCache } from "../../../../operator/src/scheduler/index.ts";
import type { residencyPolicy } from "../../../support/builders.ts";
import { cluster, placed, T0, workload } from "./world.ts";

const log = pino({ level: "silent" });

describe("workload reconciler: the ResidencyPolicy it names does not exist", () => {
  it("does not fail: writes Scheduled=False PolicyNotFound, records one Event, publishes nothing, and keeps counting its replicas", async () => {
    const w = workload({ policy: "health", placements: placed(["fr-1", "FR", 3]) });
    w.metadata = { ...w.metadata, name: "app", namespace: "ns", finalizers: [MEMBER_CLEANUP_FINALIZER] };
    const workloads = new IndexedStore<SovereignWorkload>();
    addWorkloadIndexes(workloads);
    workloads.set("ns/app", w);
    const clusters = new IndexedStore<ReturnType<typeof cluster>>();
    clusters.set("fr-1", cluster({ name: "fr-1" }));
    const policies = new IndexedStore<ReturnType<typeof residencyPolicy>>();
    const scheduler = new SchedulerCache({ clusters, policies, workloads });
    const statuses: SovereignWorkload["status"][] = [];
    const events: string[] = [];
    const published: string[] = [];
    // Every metrics call by name: a missing policy is not a scheduling decision.
    const metricCalls: string[] = [];
    const metrics = new Proxy({}, { get: (_t, name) => (...args: unknown[]) => { metricCalls.push(`${String(name)} ${JSON.stringify(args[0])}`); } });
    const reconciler = new WorkloadReconciler({
      workloads, clusters, policies, scheduler,
      host: {
        applySovereignWorkloadStatus: async ({ status }: { status: SovereignWorkload["status"] }) => { statuses.push(status); return { resourceVersion: "101" }; },
        setSovereignWorkloadFinalizers: async () => { throw new Error("the finalizer is there already"); },
        createEvent: async (e: { type: string; reason: string; message: string }) => { events.push(`${e.type} ${e.reason} ${e.message.split(":")[0]}`); },
      } as never,
      publisher: { publishIntent: async () => { published.push("intent"); }, publishAudit: async () => { published.push("audit"); } } as never,
      reports: new ReportBook({ source: { heartbeats: () => (async function* () {})(), statuses: () => (async function* () {})() }, log }),
      ensureMember: async () => undefined, clock: new TestClock(T0), log, identity: "test", metrics: metrics as never,
    });
    assert.deepEqual(await reconciler.reconcile("ns/app"), {});
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]?.conditions?.find((c) => c.type === "Scheduled")?.reason, "PolicyNotFound");
    assert.deepEqual(statuses[0]?.placements?.map((p) => [p.cluster, p.replicas]), [["fr-1", 3]]);
    assert.deepEqual(events, ["Warning Unschedulable PolicyNotFound"]);
    assert.deepEqual(published, []);
    assert.ok(!metricCalls.some((c) => c.startsWith("decision ")), metricCalls.join("\n"));
    assert.ok(metricCalls.some((c) => c.startsWith("workloadUnschedulable ") && c.includes('"unschedulable":true')), metricCalls.join("\n"));
    // Its replicas still take their room on fr-1: another workload's decision counts them.
    assert.equal(scheduler.usedByOthers({ workload: "ns/other", now: T0 }).get("fr-1")?.pods, 3);
  });
});
