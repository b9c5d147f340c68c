import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, it } from "mocha";
import pino from "pino";
import { ReportBook } from "../../../operator/src/controllers/reports.ts";
import type { ReportEvent } from "../../../operator/src/controllers/reports.ts";
import type { Heartbeat, PlacementIntent, Received, ReportSource, WorkloadStatus } from "../../../operator/src/federation/index.ts";
import { ReportDrop } from "../../../operator/src/controllers/report-admission.ts";
import { MetricsRegistry, noopSovereignMetrics, STATUS_REPORT_DROP_REASONS } from "../../../operator/src/metrics/index.ts";
import { TestClock } from "../../../operator/src/runtime/index.ts";
import type { SovereignMetrics } from "../../../operator/src/metrics/index.ts";
import { sampleHeartbeat } from "../../support/samples.ts";

const log = pino({ level: "silent" });
const NOW = new Date("2026-12-04T12:00:00Z");

/** The host's workloads as the placedOn lookup sees them: uid -> clusters in status.placements. */
function host(initial: Record<string, string[]> = {}) {
  const placements = new Map(Object.entries(initial).map(([uid, clusters]) => [uid, new Set(clusters)]));
  return {
    placements,
    placedOn: (uid: string): ReadonlySet<string> | undefined => placements.get(uid),
  };
}

function countingMetrics() {
  const dropped = new Map<string, number>();
  const heartbeatsDropped = new Map<string, number>();
  const metrics: SovereignMetrics = {
    ...noopSovereignMetrics,
    statusReportDropped: ({ reason }) => void dropped.set(reason, (dropped.get(reason) ?? 0) + 1),
    heartbeatDropped: ({ reason }) => void heartbeatsDropped.set(reason, (heartbeatsDropped.get(reason) ?? 0) + 1),
  };
  return { metrics, dropped, heartbeatsDropped };
}

function status(p: { cluster: string; uid: string; ready?: number; subject?: { cluster: string; uid: string }; receivedAt?: Date }): Received<WorkloadStatus> {
  const subject = p.subject ?? { cluster: p.cluster, uid: p.uid };
  return {
    subject: `sov.v1.${subject.cluster}.status.${subject.uid}`,
    receivedAt: p.receivedAt ?? NOW,
    message: {
      cluster: p.cluster, workload: { uid: p.uid, namespace: "ns", name: "app" }, desiredReplicas: 2, readyReplicas: p.ready ?? 2,
      observedGeneration: 1, message: "", pods: [], reportedAt: NOW,
    } as unknown as WorkloadStatus,
  };
}

const idle: ReportSource = { heartbeats: () => never(), statuses: () => never() };

function book(p: { placedOn?: (uid: string) => ReadonlySet<string> | undefined; metrics?: SovereignMetrics; source?: ReportSource }): ReportBook {
  return new ReportBook({ source: p.source ?? idle, log, clock: new TestClock(NOW), ...(p.placedOn ? { placedOn: p.placedOn } : {}), ...(p.metrics ? { metrics: p.metrics } : {}) });
}

const intent = (uid: string, cluster: string, replicas = 2) => ({ workload: { uid }, cluster, generation: 1, replicas }) as unknown as PlacementIntent;


/** Runs the book until a report of `uid` is in (5 s deadline), then stops it. */
async function runUntilReported(b: ReportBook, uid: string): Promise<void> {
  const abort = new AbortController();
  const running = b.start(abort.signal);
  const deadline = Date.now() + 5000;
  while (b.reportsOf(uid).size === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  abort.abort();
  await running;
}

describe("ReportBook: a member cannot make the host keep what it does not run", () => {
  it("a flood of 10,000 random uids from one member stores nothing and counts each as UnknownWorkload; a genuine report is still taken", () => {
    const h = host({ mine: ["fr"] });
    const { metrics, dropped } = countingMetrics();
    const b = book({ placedOn: h.placedOn, metrics });
    for (let i = 0; i < 10_000; i++) b.deliver(status({ cluster: "fr", uid: randomUUID() }), 0);
    assert.equal(b.size, 0);
    assert.equal(b.entries, 0);
    assert.equal(dropped.get("UnknownWorkload"), 10_000);
    assert.equal(b.deliver(status({ cluster: "fr", uid: "mine" }), 0), undefined);
    assert.equal(b.reportsOf("mine").get("fr")?.readyReplicas, 2);
    assert.equal(b.entries, 1);
  });

  it("every refusal reason is a series of sovereign_status_reports_dropped_total from the start; an unknown one cannot add a series", async () => {
    assert.deepEqual([...STATUS_REPORT_DROP_REASONS].sort(), Object.values(ReportDrop).sort());
    const registry = new MetricsRegistry({ processMetrics: false });
    registry.statusReportDropped({ reason: "UnknownWorkload" });
    registry.statusReportDropped({ reason: "a member's own words" });
    const text = await registry.metrics();
    const series = text.split("\n").filter((l) => l.startsWith("sovereign_status_reports_dropped_total{"));
    assert.deepEqual(series.sort(), [
      'sovereign_status_reports_dropped_total{reason="ClusterMismatch"} 0',
      'sovereign_status_reports_dropped_total{reason="Malformed"} 0',
      'sovereign_status_reports_dropped_total{reason="NotPlacedOnMember"} 0',
      'sovereign_status_reports_dropped_total{reason="UidMismatch"} 0',
      'sovereign_status_reports_dropped_total{reason="Unknown"} 1',
      'sovereign_status_reports_dropped_total{reason="UnknownWorkload"} 1',
    ]);
  });

  const rows: { what: string; report: Received<WorkloadStatus>; want: string | undefined }[] = [
    { what: "a workload the sender runs (the control)", report: status({ cluster: "fr", uid: "on-fr" }), want: undefined },
    { what: "a workload the sender does not run", report: status({ cluster: "fr", uid: "on-de" }), want: "NotPlacedOnMember" },
    { what: "a payload uid other than its subject's (speaking for another workload)", report: status({ cluster: "fr", uid: "on-de", subject: { cluster: "fr", uid: "on-fr" } }), want: "UidMismatch" },
    { what: "a payload cluster other than its subject's", report: status({ cluster: "de", uid: "on-de", subject: { cluster: "fr", uid: "on-de" } }), want: "ClusterMismatch" },
    { what: "a uid the host has never had", report: status({ cluster: "fr", uid: "made-up" }), want: "UnknownWorkload" },
  ];
  for (const r of rows) {
    it(`${r.what}: ${r.want ?? "taken"}`, () => {
      const h = host({ "on-fr": ["fr"], "on-de": ["de"] });
      const { metrics, dropped } = countingMetrics();
      const b = book({ placedOn: h.placedOn, metrics });
      const heard: ReportEvent[] = [];
      b.onEvent((e) => heard.push(e));
      assert.equal(b.deliver(r.report, 0), r.want);
      if (r.want === undefined) {
        assert.equal(heard.length, 1);
        assert.equal(b.entries, 1);
      } else {
        assert.equal(heard.length, 0, "nothing woken");
        assert.equal(b.entries, 0, "nothing stored");
        assert.equal(dropped.get(r.want), 1);
      }
    });
  }

  it("a forged report cannot overwrite the genuine one of another workload (uid in the payload ≠ subject)", () => {
    const h = host({ "on-fr": ["fr"], "on-fr-2": ["fr"] });
    const b = book({ placedOn: h.placedOn });
    b.deliver(status({ cluster: "fr", uid: "on-fr", ready: 2 }), 0);
    assert.equal(b.deliver(status({ cluster: "fr", uid: "on-fr", ready: 0, subject: { cluster: "fr", uid: "on-fr-2" } }), 0), "UidMismatch");
    assert.equal(b.reportsOf("on-fr").get("fr")?.readyReplicas, 2);
  });

  it("a report racing the cache: taken once an intent to that member was published, dropped without (the control)", () => {
    const h = host({ new: [] });
    const b = book({ placedOn: h.placedOn });
    assert.equal(b.deliver(status({ cluster: "fr", uid: "new" }), 0), "NotPlacedOnMember");
    b.intentPublished(intent("new", "fr"));
    assert.equal(b.deliver(status({ cluster: "fr", uid: "new", ready: 1 }), 0), undefined);
    assert.equal(b.reportsOf("new").get("fr")?.readyReplicas, 1);
    // A stale cache event (the write before the placement) keeps it; the cache catching up clears the mark.
    b.placementsChanged("new");
    assert.equal(b.reportsOf("new").size, 1);
    h.placements.set("new", new Set(["fr"]));
    b.placementsChanged("new");
    assert.equal(b.reportsOf("new").size, 1);
    // From then on the placements decide: once the workload leaves fr, fr's report goes and new ones are refused.
    h.placements.set("new", new Set(["de"]));
    b.placementsChanged("new");
    assert.equal(b.reportsOf("new").size, 0);
    assert.equal(b.deliver(status({ cluster: "fr", uid: "new", ready: 0 }), 0), "NotPlacedOnMember");
  });

  it("an intent to a member already listed leaves no mark behind (the member's reports stop when it is no longer listed)", () => {
    const h = host({ w: ["fr"] });
    const b = book({ placedOn: h.placedOn });
    b.intentPublished(intent("w", "fr", 0));
    h.placements.set("w", new Set());
    b.placementsChanged("w");
    assert.equal(b.deliver(status({ cluster: "fr", uid: "w" }), 0), "NotPlacedOnMember");
  });

  it("reports go when the workload leaves a member, or is gone from the cache", () => {
    const h = host({ a: ["fr", "de"], b: ["fr"] });
    const b = book({ placedOn: h.placedOn });
    for (const [uid, cluster] of [["a", "fr"], ["a", "de"], ["b", "fr"]] as const) b.deliver(status({ cluster, uid }), 0);
    assert.equal(b.entries, 3);
    h.placements.set("a", new Set(["de"]));
    b.placementsChanged("a");
    assert.deepEqual([...b.reportsOf("a").keys()], ["de"]);
    h.placements.delete("b");
    b.placementsChanged("b");
    assert.equal(b.reportsOf("b").size, 0);
    assert.equal(b.size, 1);
  });

  it("holds at most one report per (workload, placed member), whatever the members send (property)", () => {
    const uids = ["u1", "u2", "u3", "u4"];
    const clusters = ["fr", "de", "it"];
    const arbReport = fc.record({
      cluster: fc.constantFrom(...clusters),
      uid: fc.oneof(fc.constantFrom(...uids), fc.uuid()),
      subjectUid: fc.option(fc.constantFrom(...uids), { nil: undefined }),
      ready: fc.nat(5),
    });
    const arbStep = fc.oneof(
      fc.record({ kind: fc.constant("report" as const), r: arbReport }),
      fc.record({ kind: fc.constant("place" as const), uid: fc.constantFrom(...uids), on: fc.subarray(clusters) }),
      fc.record({ kind: fc.constant("delete" as const), uid: fc.constantFrom(...uids) }),
    );
    fc.assert(fc.property(fc.array(arbStep, { maxLength: 60 }), (steps) => {
      const h = host({ u1: ["fr"], u2: ["fr", "de"] });
      const b = book({ placedOn: h.placedOn });
      for (const s of steps) {
        if (s.kind === "report") {
          b.deliver(status({ cluster: s.r.cluster, uid: s.r.uid, ready: s.r.ready, subject: { cluster: s.r.cluster, uid: s.r.subjectUid ?? s.r.uid } }), 0);
        } else if (s.kind === "place") {
          h.placements.set(s.uid, new Set(s.on));
          b.placementsChanged(s.uid);
        } else {
          h.placements.delete(s.uid);
          b.forget(s.uid);
        }
        for (const uid of [...uids, "other"]) {
          for (const cluster of b.reportsOf(uid).keys()) assert.ok(h.placedOn(uid)?.has(cluster), `${uid} on ${cluster} is held but not placed there`);
        }
      }
    }));
  });

  it("the stream loop runs every delivery through the admission (a flood from the source is refused, the genuine one taken)", async () => {
    const h = host({ mine: ["fr"] });
    const { metrics, dropped } = countingMetrics();
    const sent = [
      ...Array.from({ length: 100 }, () => status({ cluster: "fr", uid: randomUUID() })),
      status({ cluster: "fr", uid: "mine", subject: { cluster: "fr", uid: "x" } }),
      status({ cluster: "fr", uid: "mine" }),
    ];
    const source: ReportSource = { heartbeats: (signal) => replay([], signal), statuses: (signal) => replay(sent, signal) };
    const b = book({ placedOn: h.placedOn, metrics, source });
    await runUntilReported(b, "mine");
    assert.equal(b.reportsOf("mine").get("fr")?.readyReplicas, 2);
    assert.equal(b.entries, 1);
    assert.equal(dropped.get("UnknownWorkload"), 100);
    assert.equal(dropped.get("UidMismatch"), 1);
  });

  // Seen while writing the NATS fuzzer (test/fuzz/nats.test.ts): a status that did not decode was
  // dropped by the source with a log line per message and counted nowhere.
  it("a status whose payload does not decode is counted as Malformed by the loop; the genuine one after it is taken", async () => {
    const h = host({ mine: ["fr"] });
    const { metrics, dropped } = countingMetrics();
    const source: ReportSource = {
      heartbeats: (signal) => replay([], signal),
      statuses: (signal, onMalformed) => {
        for (let i = 0; i < 3; i++) onMalformed?.({ subject: `sov.v1.fr.status.garbage-${i}`, reason: "message on sov.v1.fr.status.garbage is not a valid sovereign.v1.WorkloadStatus" });
        return replay([status({ cluster: "fr", uid: "mine" })], signal);
      },
    };
    const b = book({ placedOn: h.placedOn, metrics, source });
    await runUntilReported(b, "mine");
    assert.equal(dropped.get("Malformed"), 3);
    assert.equal(b.reportsOf("mine").get("fr")?.readyReplicas, 2, "the genuine report after them is taken (the control)");
    assert.equal(b.entries, 1);
  });

  it("a heartbeat the source drops is counted by its reason; the genuine heartbeat after it is taken", async () => {
    const { metrics, heartbeatsDropped } = countingMetrics();
    const genuine: Received<Heartbeat> = { subject: "sov.v1.fr.heartbeat", receivedAt: NOW, message: sampleHeartbeat({ cluster: "fr", sentAt: NOW }) };
    const source: ReportSource = {
      heartbeats: (signal, onDropped) => {
        onDropped?.({ subject: "sov.v1.fr.heartbeat", reason: "Malformed", detail: "not a sovereign.v1.Heartbeat" });
        onDropped?.({ subject: "sov.v1.fr.heartbeat", reason: "ClusterMismatch", detail: 'claims cluster "de"' });
        onDropped?.({ subject: "sov.v1.fr.heartbeat", reason: "ClusterMismatch", detail: 'claims cluster "de"' });
        return replay([genuine], signal);
      },
      statuses: (signal) => replay([], signal),
    };
    const b = book({ metrics, source });
    const abort = new AbortController();
    const running = b.start(abort.signal);
    const deadline = Date.now() + 5000;
    while (!b.lastHeartbeat("fr") && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    abort.abort();
    await running;
    assert.deepEqual(Object.fromEntries(heartbeatsDropped), { Malformed: 1, ClusterMismatch: 2 });
    assert.equal(b.lastHeartbeat("fr")?.heartbeat.cluster, "fr", "the genuine heartbeat is taken (the control)");
    assert.equal(b.lastHeartbeat("de"), undefined);
  });

  it("every heartbeat drop reason is a series of sovereign_heartbeats_dropped_total from the start; an unknown one cannot add a series", async () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    registry.heartbeatDropped({ reason: "Malformed" });
    registry.heartbeatDropped({ reason: "a member's own words" });
    const series = (await registry.metrics()).split("\n").filter((l) => l.startsWith("sovereign_heartbeats_dropped_total{"));
    assert.deepEqual(series.sort(), [
      'sovereign_heartbeats_dropped_total{reason="ClusterMismatch"} 0',
      'sovereign_heartbeats_dropped_total{reason="Malformed"} 1',
      'sovereign_heartbeats_dropped_total{reason="Unknown"} 1',
    ]);
  });
});

describe("ReportBook: what a start reads again of workloads the host no longer has", () => {
  const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

  it("purges from the stream a replayed status of a workload the host does not have, and nothing else", async () => {
    const discarded: string[] = [];
    const source: ReportSource = { ...idle, discardStatus: async (subject) => void discarded.push(subject) };
    const h = host({ "on-de": ["de"] });
    const b = book({ placedOn: h.placedOn, source });
    const opened = NOW.getTime();
    b.deliver(status({ cluster: "fr", uid: "gone", receivedAt: minutesAgo(60) }), opened);
    // Kept: a live one (a flood is not answered with one purge per forged status), a recent
    // one (its workload may be newer than the cache), and one of a workload that exists.
    b.deliver(status({ cluster: "fr", uid: "live", receivedAt: NOW }), opened);
    b.deliver(status({ cluster: "fr", uid: "recent", receivedAt: minutesAgo(1) }), opened);
    b.deliver(status({ cluster: "fr", uid: "on-de", receivedAt: minutesAgo(60) }), opened);
    await b.discarded();
    assert.deepEqual(discarded, ["sov.v1.fr.status.gone"]);
  });

  it("keeps at most a bounded backlog of purges, one request at a time", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const source: ReportSource = {
      ...idle,
      discardStatus: async () => {
        calls++;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await gate;
        inFlight--;
      },
    };
    const b = book({ placedOn: host().placedOn, source });
    for (let i = 0; i < 20_000; i++) b.deliver(status({ cluster: "fr", uid: `gone-${i}`, receivedAt: minutesAgo(60) }), NOW.getTime());
    release();
    await b.discarded();
    assert.equal(maxInFlight, 1);
    assert.ok(calls <= 10_001 && calls >= 10_000, `${calls} purges`);
  });
});

async function* replay<T>(items: readonly T[], signal: AbortSignal): AsyncGenerator<T> {
  for (const i of items) yield i;
  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** A report stream that never delivers. */
function never<T>(): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<T>>(() => undefined) }) };
}
