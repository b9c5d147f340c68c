import assert from "node:assert/strict";
import { describe, it } from "mocha";
import pino from "pino";
import type { SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { ReportBook } from "../../../../operator/src/controllers/reports.ts";
import type { ReportEvent } from "../../../../operator/src/controllers/reports.ts";
import {
  addWorkloadIndexes, freesRoom, OwnWrites, reportWakesScheduling, schedulingPredicate, watchForScheduling, workloadForUid, workloadsForCluster, workloadsForPolicy,
} from "../../../../operator/src/controllers/workload/watches.ts";
import { WorkloadReconciler } from "../../../../operator/src/controllers/workload/reconciler.ts";
import { Controller, IndexedStore, systemClock } from "../../../../operator/src/runtime/index.ts";
import { SchedulerCache } from "../../../../operator/src/scheduler/index.ts";
import type { ChangeKind, EventSource, WatchEvent } from "../../../../operator/src/runtime/index.ts";
import { residencyPolicy } from "../../../support/builders.ts";
import { cluster, placed, workload } from "./world.ts";

const log = pino({ level: "silent" });

function named(name: string, w: ReturnType<typeof workload>, scheduled: boolean) {
  w.metadata = { ...w.metadata, name, uid: `uid-${name}`, generation: 1, resourceVersion: "10" };
  w.status = { ...w.status, conditions: [{ type: "Scheduled", status: scheduled ? "True" : "False", reason: "x", message: "", lastTransitionTime: "2026-11-28T00:00:00Z" }] };
  return w;
}

function store(...ws: SovereignWorkload[]): IndexedStore<SovereignWorkload> {
  const s = new IndexedStore<SovereignWorkload>();
  addWorkloadIndexes(s);
  for (const w of ws) s.set(`${w.metadata.namespace}/${w.metadata.name}`, w);
  return s;
}

/** A copy as the API server returns it after a write: a new resourceVersion. */
function written(w: SovereignWorkload, rv: string, change: (x: SovereignWorkload) => void = () => undefined): SovereignWorkload {
  const next = structuredClone(w);
  next.metadata.resourceVersion = rv;
  change(next);
  return next;
}

const update = (previous: SovereignWorkload, object: SovereignWorkload, kind: ChangeKind = "update"): WatchEvent<SovereignWorkload> => ({ kind, object, previous });

describe("workload watches: lookups through indexes", () => {
  const onFr = named("on-fr", workload({ placements: placed(["fr-1", "FR", 2]) }), true);
  const onDe = named("on-de", workload({ placements: placed(["de-1", "DE", 2]) }), true);
  const pending = named("pending", workload({ policy: "health" }), false);

  it("maps a MemberCluster change to the workloads placed there and those not yet scheduled, not the others", () => {
    assert.deepEqual(workloadsForCluster(cluster({ name: "fr-1" }), store(onFr, onDe, pending)).sort(), ["ns/on-fr", "ns/pending"]);
  });

  it("follows a workload whose status moves it to another cluster (the index is updated on write)", () => {
    const s = store(onFr, onDe);
    s.set("ns/on-fr", written(onFr, "11", (x) => { x.status!.placements = placed(["de-1", "DE", 2]); }));
    assert.deepEqual(workloadsForCluster(cluster({ name: "fr-1" }), s), []);
    assert.deepEqual(workloadsForCluster(cluster({ name: "de-1", country: "DE" }), s).sort(), ["ns/on-de", "ns/on-fr"]);
    s.delete("ns/on-fr");
    assert.deepEqual(workloadsForCluster(cluster({ name: "de-1", country: "DE" }), s), ["ns/on-de"]);
  });

  it("maps a ResidencyPolicy change to the workloads that reference it", () => {
    assert.deepEqual(workloadsForPolicy(residencyPolicy({ name: "health" }), store(onFr, pending)), ["ns/pending"]);
    assert.deepEqual(workloadsForPolicy(residencyPolicy({ name: "other" }), store(onFr, pending)), []);
  });

  it("maps a member status report to its workload by uid", () => {
    assert.equal(workloadForUid("uid-on-de", store(onFr, onDe))?.metadata.name, "on-de");
    assert.equal(workloadForUid("nope", store(onFr, onDe)), undefined);
  });
});

describe("scheduling predicate", () => {
  const base = named("app", workload({ placements: placed(["fr-1", "FR", 3]) }), true);

  it("ignores the echo of the controller's own finalizer and status writes", () => {
    const own = new OwnWrites();
    const pass = schedulingPredicate(own);
    const withFinalizer = written(base, "11", (x) => { x.metadata.finalizers = ["sovereignty.eu/member-cleanup"]; });
    const withStatus = written(withFinalizer, "12", (x) => { x.status!.placements = placed(["fr-2", "FR", 3]); });
    own.record("ns/app", "11");
    own.record("ns/app", "12");
    assert.equal(pass(update(base, withFinalizer)), false);
    assert.equal(pass(update(withFinalizer, withStatus)), false);
    assert.equal(own.size, 0, "echoes seen are forgotten");
  });

  it("drops an echo that comes through the watch before the write's response, and wakes for another writer's change held meanwhile", async () => {
    const own = new OwnWrites();
    const woken: string[] = [];
    own.onWake((k) => woken.push(k));
    const pass = schedulingPredicate(own);
    const withFinalizer = written(base, "11", (x) => { x.metadata.finalizers = ["sovereignty.eu/member-cleanup"]; });
    let respond!: (w: { resourceVersion: string }) => void;
    const write = own.track("ns/app", new Promise<{ resourceVersion: string }>((r) => { respond = r; }));
    assert.equal(pass(update(base, withFinalizer)), false, "held while the write is in flight");
    respond({ resourceVersion: "11" });
    await write;
    assert.deepEqual(woken, [], "it was the echo");
    // Positive control: a spec change by a user lands while our write is in flight.
    let respond2!: (w: { resourceVersion: string }) => void;
    const write2 = own.track("ns/app", new Promise<{ resourceVersion: string }>((r) => { respond2 = r; }));
    assert.equal(pass(update(withFinalizer, written(withFinalizer, "12", (x) => { x.metadata.generation = 2; }))), false);
    respond2({ resourceVersion: "13" });
    await write2;
    assert.deepEqual(woken, ["ns/app"]);
    assert.equal(pass(update(base, written(base, "13", (x) => { x.status!.placements = []; }))), false, "and our own write's later echo is still dropped");
  });

  it("positive control: the same changes written by someone else are reconciled", () => {
    const pass = schedulingPredicate(new OwnWrites());
    assert.equal(pass(update(base, written(base, "11", (x) => { x.status!.placements = placed(["fr-2", "FR", 3]); }))), true);
    assert.equal(pass(update(written(base, "9", (x) => { x.metadata.finalizers = ["sovereignty.eu/member-cleanup"]; }), base)), true, "our finalizer removed");
  });

  it("reconciles a spec change (new generation) and a label change, even right after an own write", () => {
    const own = new OwnWrites();
    const pass = schedulingPredicate(own);
    own.record("ns/app", "11");
    const spec = written(base, "13", (x) => { x.metadata.generation = 2; x.spec.replicas = 5; });
    assert.equal(pass(update(base, spec)), true);
    const labelled = written(base, "14", (x) => { x.metadata.labels = { team: "records" }; });
    assert.equal(pass(update(base, labelled)), true);
  });

  it("ignores another writer's readiness-only status change and a relist of an unchanged object", () => {
    const pass = schedulingPredicate(new OwnWrites());
    const ready = written(base, "11", (x) => {
      x.status!.readyReplicas = 3;
      x.status!.placements = x.status!.placements!.map((p) => ({ ...p, readyReplicas: 3 }));
      x.status!.conditions = [...x.status!.conditions!, { type: "Ready", status: "True", reason: "AllReplicasReady", message: "3/3", lastTransitionTime: "2026-11-28T00:00:00Z" }];
    });
    assert.equal(pass(update(base, ready)), false);
    assert.equal(pass(update(base, base, "resync")), false);
  });

  it("passes creations and deletions", () => {
    const pass = schedulingPredicate(new OwnWrites());
    assert.equal(pass({ kind: "create", object: base, previous: undefined }), true);
    assert.equal(pass({ kind: "delete", object: base, previous: base }), true);
  });
});

describe("member reports and the scheduling controller", () => {
  const w = named("app", workload({ placements: [...placed(["fr-1", "FR", 3]), { cluster: "fr-9", country: "FR", replicas: 0 }] }), true);
  const event = (cluster: string): ReportEvent => ({ uid: "uid-app", cluster, previous: undefined, report: { desiredReplicas: 3, readyReplicas: 3, observedGeneration: 1, message: "" } });

  it("a report from a cluster the workload is placed on does not wake it (readiness is status)", () => {
    assert.equal(reportWakesScheduling(w, event("fr-1")), false);
  });

  it("a report from a cluster being vacated, a stray cluster, or during deletion does", () => {
    assert.equal(reportWakesScheduling(w, event("fr-9")), true);
    assert.equal(reportWakesScheduling(w, event("de-1")), true);
    assert.equal(reportWakesScheduling(written(w, "11", (x) => { x.metadata.deletionTimestamp = "2026-11-28T00:00:00Z"; }), event("fr-1")), true);
  });

  it("the host drops a report whose content did not change (positive control: a changed one is heard)", () => {
    const book = new ReportBook({ source: { heartbeats: () => never(), statuses: () => never() }, log });
    const heard: ReportEvent[] = [];
    book.onEvent((e) => heard.push(e));
    const report = { desiredReplicas: 3, readyReplicas: 1, observedGeneration: 1, message: "" };
    assert.equal(book.receive({ uid: "u", cluster: "fr-1", report }), true);
    assert.equal(book.receive({ uid: "u", cluster: "fr-1", report: { ...report } }), false);
    assert.equal(heard.length, 1);
    for (const change of [{ readyReplicas: 2 }, { desiredReplicas: 4 }, { observedGeneration: 2 }, { message: "ImagePullBackOff" }]) {
      assert.equal(book.receive({ uid: "u", cluster: "fr-1", report: { ...report, ...change } }), true, JSON.stringify(change));
    }
    assert.equal(heard.length, 5);
    assert.deepEqual(heard[1]!.previous, report);
  });

  it("reports are pruned when the workload or the member goes", () => {
    const book = new ReportBook({ source: { heartbeats: () => never(), statuses: () => never() }, log });
    const report = { desiredReplicas: 3, readyReplicas: 1, observedGeneration: 1, message: "" };
    book.receive({ uid: "a", cluster: "fr-1", report });
    book.receive({ uid: "b", cluster: "fr-1", report });
    book.receive({ uid: "b", cluster: "de-1", report });
    book.forget("a");
    assert.equal(book.reportsOf("a").size, 0);
    book.forgetCluster("fr-1");
    assert.deepEqual([...book.reportsOf("b").keys()], ["de-1"]);
    assert.equal(book.size, 1);
  });
});

describe("watchForScheduling: what reaches the queue", () => {
  it("enqueues a new workload once, not its own writes' echoes nor a placed member's reports; a spec change enqueues it again", async () => {
    const workloads = Object.assign(store(), source<WatchEvent<SovereignWorkload>>());
    const reports = source<ReportEvent>();
    const own = new OwnWrites();
    const seen: string[] = [];
    const controller = new Controller({ name: "t", clock: systemClock, log, reconciler: { reconcile: async (k) => { seen.push(k); return {}; } } });
    watchForScheduling({ controller, workloads, clusters: source(), policies: source(), reports, ownWrites: own });
    const w = named("app", workload(), false);
    workloads.set("ns/app", w);
    workloads.emit({ kind: "create", object: w, previous: undefined });
    const fin = written(w, "11", (x) => { x.metadata.finalizers = ["sovereignty.eu/member-cleanup"]; });
    const st = written(fin, "12", (x) => { x.status = { ...x.status, placements: placed(["fr-1", "FR", 3]) }; });
    own.record("ns/app", "11");
    own.record("ns/app", "12");
    workloads.set("ns/app", st);
    workloads.emit(update(w, fin));
    workloads.emit(update(fin, st));
    reports.emit({ uid: "uid-app", cluster: "fr-1", previous: undefined, report: { desiredReplicas: 3, readyReplicas: 3, observedGeneration: 1, message: "" } });
    assert.equal(controller.queueLength, 1);
    const spec = written(st, "13", (x) => { x.metadata.generation = 2; });
    workloads.emit(update(st, spec));
    assert.equal(controller.queueLength, 1, "deduplicated while queued");
    const abort = new AbortController();
    const running = controller.start(abort.signal);
    await waitFor(() => seen.length === 1);
    abort.abort();
    await running;
    assert.deepEqual(seen, ["ns/app"]);
  });
});

describe("room freed on a member wakes the workloads waiting for room", () => {
  const holding = (name: string, ...p: [string, "FR" | "DE", number][]) => named(name, workload({ placements: placed(...p) }), true);

  it("freesRoom: fewer replicas on a cluster, a cluster left, or the workload gone; not more, not the same, not a move onto a new cluster alone", () => {
    const before = holding("big", ["fr-1", "FR", 3], ["de-1", "DE", 1]);
    const table: [string, SovereignWorkload | undefined, boolean][] = [
      ["scaled down on fr-1", holding("big", ["fr-1", "FR", 2], ["de-1", "DE", 1]), true],
      ["left de-1", holding("big", ["fr-1", "FR", 3]), true],
      ["deleted", undefined, true],
      ["scaled up (positive control: takes room)", holding("big", ["fr-1", "FR", 4], ["de-1", "DE", 1]), false],
      ["unchanged", holding("big", ["fr-1", "FR", 3], ["de-1", "DE", 1]), false],
      ["one more cluster", holding("big", ["fr-1", "FR", 3], ["de-1", "DE", 1], ["fr-2", "FR", 1]), false],
    ];
    for (const [what, next, frees] of table) assert.equal(freesRoom(before, next), frees, what);
  });

  it("a scale-down or delete of one workload enqueues the one waiting for room; a scale-up enqueues nothing (positive control)", () => {
    const big = holding("big", ["fr-1", "FR", 3]);
    const waiting = named("waiting", workload(), false);
    const workloads = Object.assign(store(big, waiting), source<WatchEvent<SovereignWorkload>>());
    const controller = new Controller({ name: "t", clock: systemClock, log, reconciler: { reconcile: async () => ({}) } });
    const own = new OwnWrites();
    watchForScheduling({ controller, workloads, clusters: source(), policies: source(), reports: source(), ownWrites: own });
    // big's status writes are the controller's own: they do not wake big itself, so the queue shows only who else woke.
    own.record("ns/big", "11");
    own.record("ns/big", "12");
    const up = written(big, "11", (x) => { x.status = { ...x.status, placements: placed(["fr-1", "FR", 4]) }; });
    workloads.set("ns/big", up);
    workloads.emit(update(big, up));
    assert.equal(controller.queueLength, 0, "a scale-up wakes nobody");
    const down = written(up, "12", (x) => { x.status = { ...x.status, placements: placed(["fr-1", "FR", 1]) }; });
    workloads.set("ns/big", down);
    workloads.emit(update(up, down));
    assert.equal(controller.queueLength, 1, "the waiting workload is woken by the scale-down");
    workloads.delete("ns/big");
    workloads.emit({ kind: "delete", object: down, previous: down });
    assert.equal(controller.queueLength, 2, "the delete adds big itself (its finalizer path); waiting stays queued once");
  });
});

function source<E>(): EventSource<E> & { emit(e: E): void } {
  const handlers: ((e: E) => void)[] = [];
  return { onEvent: (h) => void handlers.push(h), emit: (e) => { for (const h of handlers) h(e); } };
}

/** A report stream that never delivers (the tests feed ReportBook through receive()). */
function never<T>(): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<T>>(() => undefined) }) };
}

async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in 5 s");
    await new Promise((r) => setImmediate(r));
  }
}

describe("read your writes: a reconcile waits for its own write's echo", () => {
  it("awaits the echo of a tracked write until the watch brings it, then wakes the key once", async () => {
    let now = 0;
    const own = new OwnWrites({ now: () => now, echoTimeoutMs: 5_000 });
    const woken: string[] = [];
    own.onWake((k) => woken.push(k));
    assert.equal(own.awaitsEcho("ns/app"), false, "nothing written yet");
    let respond!: (w: { resourceVersion: string }) => void;
    const write = own.track("ns/app", new Promise<{ resourceVersion: string }>((r) => { respond = r; }));
    assert.equal(own.awaitsEcho("ns/app"), true, "in flight");
    respond({ resourceVersion: "11" });
    await write;
    assert.equal(own.awaitsEcho("ns/app"), true, "written, echo not seen");
    assert.equal(own.awaitsEcho("ns/other"), false, "another key does not wait");
    own.wakeOnEcho("ns/app");
    now += 100;
    assert.equal(own.isEcho("ns/app", "10"), false, "an older version is not the echo");
    assert.deepEqual(woken, [], "still waiting");
    assert.equal(own.isEcho("ns/app", "11"), true);
    assert.deepEqual(woken, ["ns/app"], "the echo wakes the waiting key");
    assert.equal(own.awaitsEcho("ns/app"), false);
    assert.equal(own.size, 0);
  });

  it("stops waiting after the timeout (a relist may never deliver the echo), and a write whose echo came first does not wait", async () => {
    let now = 0;
    const own = new OwnWrites({ now: () => now, echoTimeoutMs: 5_000 });
    await own.track("ns/app", Promise.resolve({ resourceVersion: "11" }));
    now += 4_999;
    assert.equal(own.awaitsEcho("ns/app"), true);
    now += 1;
    assert.equal(own.awaitsEcho("ns/app"), false);
    // The echo came through the watch before the response: held, then known as the echo.
    const pass = schedulingPredicate(own);
    const base = named("b", workload({ placements: placed(["fr-1", "FR", 3]) }), true);
    let respond!: (w: { resourceVersion: string }) => void;
    const write = own.track("ns/b", new Promise<{ resourceVersion: string }>((r) => { respond = r; }));
    assert.equal(pass(update(base, written(base, "12", (x) => { x.status!.placements = placed(["fr-2", "FR", 3]); }))), false);
    respond({ resourceVersion: "12" });
    await write;
    assert.equal(own.awaitsEcho("ns/b"), false, "the cache already holds it");
  });

  it("the scheduling reconcile decides nothing while its write's echo is missing, and goes on once it came (positive control)", async () => {
    const w = named("app", workload({ placements: placed(["fr-1", "FR", 3]) }), true);
    const workloads = store(w);
    const clusters = new IndexedStore<ReturnType<typeof cluster>>();
    clusters.set("fr-1", cluster({ name: "fr-1" }));
    const policies = new IndexedStore<ReturnType<typeof residencyPolicy>>();
    const own = new OwnWrites();
    const calls: string[] = [];
    // Any use of the host or the bus is recorded, then refused: this test only asks whether the reconcile got that far.
    const refuse = (what: string) => new Proxy({}, { get: (_t, prop) => () => { calls.push(`${what}.${String(prop)}`); return Promise.reject(new Error("reached")); } });
    const reconciler = new WorkloadReconciler({
      workloads, clusters, policies, scheduler: new SchedulerCache({ clusters, policies, workloads }),
      host: refuse("host") as never, publisher: refuse("publisher") as never,
      reports: new ReportBook({ source: { heartbeats: () => (async function* () {})(), statuses: () => (async function* () {})() }, log }),
      ensureMember: async () => undefined, clock: systemClock, log, identity: "test", ownWrites: own,
    });
    await own.track("ns/app", Promise.resolve({ resourceVersion: "11" }));
    assert.deepEqual(await reconciler.reconcile("ns/app"), { requeueAfterMs: 1_000 });
    assert.deepEqual(calls, [], "no write, no publish from a cache older than its own write");
    own.isEcho("ns/app", "11");
    await assert.rejects(reconciler.reconcile("ns/app"), /reached/);
    assert.ok(calls.length > 0, "with the echo in, the same reconcile goes on to write");
  });
});
