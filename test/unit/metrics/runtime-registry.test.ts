import assert from "node:assert/strict";
import { MetricsRegistry } from "../../../operator/src/metrics/index.ts";
import { bucketsOf, labelNamesOf, parseExposition, sampleOf, type Family } from "./scrape.ts";

// What controller-runtime (pkg/internal/controller/metrics, pkg/metrics/workqueue.go)
// exports, written out here rather than imported from definitions.ts, so a rename in the
// table fails this test instead of silently breaking every dashboard built for Go operators.
const CONTROLLER_RUNTIME: readonly { name: string; type: string; labels: string[] }[] = [
  { name: "controller_runtime_reconcile_total", type: "counter", labels: ["controller", "result"] },
  { name: "controller_runtime_reconcile_errors_total", type: "counter", labels: ["controller"] },
  { name: "controller_runtime_terminal_reconcile_errors_total", type: "counter", labels: ["controller"] },
  { name: "controller_runtime_reconcile_time_seconds", type: "histogram", labels: ["controller"] },
  { name: "controller_runtime_active_workers", type: "gauge", labels: ["controller"] },
  { name: "controller_runtime_max_concurrent_reconciles", type: "gauge", labels: ["controller"] },
  { name: "workqueue_depth", type: "gauge", labels: ["controller", "name"] },
  { name: "workqueue_adds_total", type: "counter", labels: ["controller", "name"] },
  { name: "workqueue_queue_duration_seconds", type: "histogram", labels: ["controller", "name"] },
  { name: "workqueue_work_duration_seconds", type: "histogram", labels: ["controller", "name"] },
  { name: "workqueue_retries_total", type: "counter", labels: ["controller", "name"] },
  { name: "workqueue_unfinished_work_seconds", type: "gauge", labels: ["controller", "name"] },
  { name: "workqueue_longest_running_processor_seconds", type: "gauge", labels: ["controller", "name"] },
];

const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
  1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];

async function scrape(r: MetricsRegistry): Promise<Map<string, Family>> {
  return parseExposition(await r.metrics());
}

function started(): MetricsRegistry {
  const r = new MetricsRegistry({ processMetrics: false });
  r.maxWorkers({ controller: "workload", count: 4 });
  r.forQueue({ name: "workload", controller: "workload" });
  return r;
}

describe("metrics: controller-runtime and workqueue metrics", () => {
  for (const { name, type, labels } of CONTROLLER_RUNTIME) {
    it(`exports ${name} as a ${type} labelled {${labels.join(",")}} once a controller has reconciled`, async () => {
      const r = started();
      r.reconciled({ controller: "workload", result: "success", seconds: 0.01 });
      const f = (await scrape(r)).get(name);
      assert.ok(f, `${name} missing`);
      assert.equal(f.type, type);
      assert.deepEqual(labelNamesOf(f), labels);
      assert.ok(f.help.length > 20, `${name} has a HELP an SRE can read`);
    });
  }

  it("creates every result of reconcile_total and the error counters at 0 when a controller starts, as initMetrics does", async () => {
    const m = await scrape(started());
    for (const result of ["success", "error", "requeue", "requeue_after"]) {
      assert.equal(sampleOf(m, "controller_runtime_reconcile_total", { controller: "workload", result }), 0);
    }
    assert.equal(sampleOf(m, "controller_runtime_reconcile_errors_total", { controller: "workload" }), 0);
    assert.equal(sampleOf(m, "controller_runtime_terminal_reconcile_errors_total", { controller: "workload" }), 0);
    assert.equal(sampleOf(m, "controller_runtime_active_workers", { controller: "workload" }), 0);
    assert.equal(sampleOf(m, "controller_runtime_max_concurrent_reconciles", { controller: "workload" }), 4);
  });

  it("counts reconciles by result and times them per controller", async () => {
    const r = started();
    r.reconciled({ controller: "workload", result: "success", seconds: 0.02 });
    r.reconciled({ controller: "workload", result: "success", seconds: 0.03 });
    r.reconciled({ controller: "workload", result: "requeue_after", seconds: 2 });
    r.reconciled({ controller: "membercluster", result: "error", seconds: 0.5 });
    const m = await scrape(r);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_total", { controller: "workload", result: "success" }), 2);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_total", { controller: "workload", result: "requeue_after" }), 1);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_total", { controller: "membercluster", result: "error" }), 1);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_time_seconds_count", { controller: "workload" }), 3);
    assert.ok(Math.abs(sampleOf(m, "controller_runtime_reconcile_time_seconds_sum", { controller: "workload" }) - 2.05) < 1e-9);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_time_seconds_bucket", { controller: "workload", le: "0.025" }), 1);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_time_seconds_bucket", { controller: "workload", le: "0.05" }), 2);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_time_seconds_bucket", { controller: "workload", le: "2" }), 3);
  });

  it("counts a terminal error in both error counters and a transient one only in reconcile_errors_total", async () => {
    const r = started();
    r.reconcileError({ controller: "workload", terminal: false });
    r.reconcileError({ controller: "workload", terminal: false });
    r.reconcileError({ controller: "workload", terminal: true });
    const m = await scrape(r);
    assert.equal(sampleOf(m, "controller_runtime_reconcile_errors_total", { controller: "workload" }), 3);
    assert.equal(sampleOf(m, "controller_runtime_terminal_reconcile_errors_total", { controller: "workload" }), 1);
  });

  it("tracks active workers up and down", async () => {
    const r = started();
    r.activeWorkers({ controller: "workload", delta: 1 });
    r.activeWorkers({ controller: "workload", delta: 1 });
    r.activeWorkers({ controller: "workload", delta: -1 });
    assert.equal(sampleOf(await scrape(r), "controller_runtime_active_workers", { controller: "workload" }), 1);
  });

  it("uses controller-runtime's reconcile-time buckets, 5 ms to 60 s", async () => {
    const r = started();
    r.reconciled({ controller: "workload", result: "success", seconds: 0.1 });
    const f = (await scrape(r)).get("controller_runtime_reconcile_time_seconds") as Family;
    assert.deepEqual(bucketsOf(f, { controller: "workload" }), RECONCILE_BUCKETS);
  });

  it("uses client-go's ExponentialBuckets(10e-9, 10, 12) for both workqueue histograms", async () => {
    const m = await scrape(started());
    const expected = Array.from({ length: 12 }, (_, i) => 10e-9 * 10 ** i);
    for (const name of ["workqueue_queue_duration_seconds", "workqueue_work_duration_seconds"]) {
      const got = bucketsOf(m.get(name) as Family, { name: "workload" });
      assert.equal(got.length, 12, name);
      got.forEach((b, i) => assert.ok(Math.abs(b - (expected[i] as number)) / (expected[i] as number) < 1e-12, `${name} bucket ${i}: ${b}`));
    }
  });

  it("labels a queue's series {name, controller} and records depth, adds, latencies, retries and unfinished work", async () => {
    const r = started();
    const q = r.forQueue({ name: "workload", controller: "workload" });
    q.added(); q.added(); q.added();
    q.depth(1); q.depth(1); q.depth(-1);
    q.queued(0.002);
    q.worked(0.5);
    q.worked(20);
    q.retried();
    q.unfinished({ oldestSeconds: 7, totalSeconds: 12.5 });
    const m = await scrape(r);
    const l = { name: "workload", controller: "workload" };
    assert.equal(sampleOf(m, "workqueue_adds_total", l), 3);
    assert.equal(sampleOf(m, "workqueue_depth", l), 1);
    assert.equal(sampleOf(m, "workqueue_queue_duration_seconds_count", l), 1);
    assert.equal(sampleOf(m, "workqueue_queue_duration_seconds_bucket", { ...l, le: "0.001" }), 0);
    assert.equal(sampleOf(m, "workqueue_queue_duration_seconds_bucket", { ...l, le: "0.01" }), 1);
    assert.equal(sampleOf(m, "workqueue_work_duration_seconds_count", l), 2);
    assert.equal(sampleOf(m, "workqueue_work_duration_seconds_bucket", { ...l, le: "1" }), 1);
    assert.equal(sampleOf(m, "workqueue_retries_total", l), 1);
    assert.equal(sampleOf(m, "workqueue_longest_running_processor_seconds", l), 7);
    assert.equal(sampleOf(m, "workqueue_unfinished_work_seconds", l), 12.5);
  });

  it("does not reset a queue's depth when forQueue is asked again for the same queue", async () => {
    const r = started();
    r.forQueue({ name: "workload", controller: "workload" }).depth(3);
    r.forQueue({ name: "workload", controller: "workload" });
    assert.equal(sampleOf(await scrape(r), "workqueue_depth", { name: "workload", controller: "workload" }), 3);
  });

  it("keeps two queues apart by label", async () => {
    const r = started();
    r.forQueue({ name: "a", controller: "a" }).added();
    const m = await scrape(r);
    assert.equal(sampleOf(m, "workqueue_adds_total", { name: "a", controller: "a" }), 1);
    assert.equal(sampleOf(m, "workqueue_adds_total", { name: "workload", controller: "workload" }), 0);
  });

  it("includes Node's process metrics by default, and serves Prometheus text", async () => {
    const r = new MetricsRegistry();
    const m = await scrape(r);
    assert.ok(m.has("process_cpu_seconds_total"));
    assert.ok(m.has("nodejs_eventloop_lag_seconds"));
    assert.match(r.contentType, /^text\/plain; version=0\.0\.4/);
    assert.ok(!(await scrape(new MetricsRegistry({ processMetrics: false }))).has("process_cpu_seconds_total"), "processMetrics: false turns them off");
  });

  it("gives each registry its own series, so two in one process do not add up", async () => {
    const a = started();
    const b = started();
    a.reconciled({ controller: "workload", result: "success", seconds: 0.01 });
    assert.equal(sampleOf(await scrape(a), "controller_runtime_reconcile_total", { controller: "workload", result: "success" }), 1);
    assert.equal(sampleOf(await scrape(b), "controller_runtime_reconcile_total", { controller: "workload", result: "success" }), 0);
  });
});
