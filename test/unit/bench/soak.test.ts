import assert from "node:assert/strict";
import fc from "fast-check";
import { chartHtml, niceScale, pathData } from "../../../bench/lib/plot.ts";
import { seededRandom } from "../../../bench/lib/random.ts";
import { drawReplicas, errorsTransient, growth, panels, parseOptions, processSample, queued, rates, RELIST_S } from "../../../bench/soak.ts";
import type { Sample } from "../../../bench/soak.ts";

const proc = (rssMB: number, extra: Partial<{ queueDepth: number; reconciles: number; errors: number }> = {}) =>
  ({ rssMB, heapMB: rssMB / 2, queueDepth: 0, reconciles: 0, errors: 0, ...extra });

function series(rss: (t: number) => number, params: { until: number; step?: number; errorsAt?: (t: number) => number; phase?: (t: number) => Sample["phase"] }): Sample[] {
  const out: Sample[] = [];
  for (let t = 0; t <= params.until; t += params.step ?? 5) {
    out.push({ t, phase: params.phase?.(t) ?? "churn", ops: t, procs: { "control-plane": proc(rss(t), { errors: params.errorsAt?.(t) ?? 0, reconciles: t * 2 }) } });
  }
  return out;
}

describe("the soak's figures (bench/soak.ts)", function () {
  it("reads RSS, queue depth and reconciles by result from a /metrics exposition", function () {
    const text = [
      "# TYPE process_resident_memory_bytes gauge",
      "process_resident_memory_bytes 104857600",
      'workqueue_depth{name="a",controller="a"} 3',
      'workqueue_depth{name="b",controller="b"} 4',
      'controller_runtime_reconcile_total{controller="a",result="success"} 10',
      'controller_runtime_reconcile_total{controller="a",result="error"} 2',
      'controller_runtime_reconcile_total{controller="b",result="error"} 1',
    ].join("\n");
    assert.deepEqual(processSample(`${text}\nnodejs_heap_size_used_bytes 52428800`), { rssMB: 100, heapMB: 50, queueDepth: 7, reconciles: 13, errors: 3 });
    assert.ok(Number.isNaN(processSample("").rssMB), "no RSS sample is NaN, not 0");
    assert.ok(Number.isNaN(processSample("").queueDepth), "a process without a workqueue is NaN, not an empty queue");
  });

  it("growth after warm-up: flat is 0 %, a leak of 20 % is caught, one spike in a window does not decide it", function () {
    const flat = growth(series(() => 100, { until: 600 }), "control-plane", { warmupS: 120, endS: 600, windowS: 60 });
    assert.equal(flat.growth, 0);
    const leak = growth(series((t) => 100 + (t / 600) * 20, { until: 600 }), "control-plane", { warmupS: 120, endS: 600, windowS: 60 });
    assert.ok(leak.growth > 0.1, `a steady leak shows: ${leak.growth}`);
    const spike = growth(series((t) => (t === 590 ? 130 : 100), { until: 600 }), "control-plane", { warmupS: 120, endS: 600, windowS: 60 });
    assert.ok(spike.growth < 0.05, `one sample does not decide: ${spike.growth}`);
    assert.equal(spike.maxMB, 130);
    // What the warm-up grows does not count.
    const warm = growth(series((t) => (t < 120 ? 50 + t / 2 : 110), { until: 600 }), "control-plane", { warmupS: 120, endS: 600, windowS: 60 });
    assert.equal(warm.growth, 0);
    // The heap is judged the same way, from its own samples.
    assert.ok(Math.abs(growth(series((t) => 100 + (t / 600) * 20, { until: 600 }), "control-plane", { warmupS: 120, endS: 600, windowS: 60, of: "heapMB" }).growth - leak.growth) < 1e-9);
  });

  it("errors are transient when none come in the drain's last seconds, and not when they keep coming", function () {
    const phase = (t: number): Sample["phase"] => (t <= 300 ? "churn" : "drain");
    const early = errorsTransient(series(() => 100, { until: 400, phase, errorsAt: (t) => Math.min(t, 200) }), { quietS: 30 });
    assert.equal(early.total, 200);
    assert.equal(early.inDrain, 0);
    assert.equal(early.quietAtEnd, true);
    const late = errorsTransient(series(() => 100, { until: 400, phase, errorsAt: (t) => t }), { quietS: 30 });
    assert.equal(late.quietAtEnd, false, "errors up to the last sample are not transient");
    assert.ok(late.inDrain > 0);
    // A restarted process resets its counter: that is no negative error count.
    const reset = errorsTransient(series(() => 100, { until: 20, errorsAt: (t) => (t === 5 ? 5 : 0) }), { quietS: 5 });
    assert.equal(reset.total, 5);
  });

  it("rates are per second between samples, and never negative across a restart", function () {
    const s = series(() => 100, { until: 20 });
    assert.deepEqual(rates(s, ["control-plane"], (p) => p.reconciles).map(([, r]) => r), [2, 2, 2, 2]);
    s[2]!.procs["control-plane"]!.reconciles = 0;
    assert.ok(rates(s, ["control-plane"], (p) => p.reconciles).every(([, r]) => r >= 0));
  });

  it("sums the queues of the processes that have one; none at all is NaN, not drained", function () {
    const s: Sample = { t: 0, phase: "drain", ops: 0, procs: { a: proc(1, { queueDepth: 2 }), b: proc(1, { queueDepth: NaN }), c: undefined } };
    assert.equal(queued(s, ["a", "b", "c"]), 2);
    assert.ok(Number.isNaN(queued(s, ["b", "c"])));
  });

  it("draws replicas with a mean that keeps 1,000 workloads inside four members' pod slots", function () {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
      const random = seededRandom(seed);
      let pods = 0;
      for (let i = 0; i < 1000; i++) pods += drawReplicas(random);
      return pods <= 1161;
    }), { numRuns: 50 });
  });

  it("validates its options once, at start", function () {
    assert.equal(parseOptions(["--minutes", "1", "--seed", "7"]).minutes, 1);
    assert.equal(parseOptions([]).workloads, 1000);
    assert.throws(() => parseOptions(["--minutes", "0"]), /--minutes/);
    assert.throws(() => parseOptions(["--rate", "x"]), /--rate/);
    // The warm-up holds the first relist on runs long enough to compare after it, never more than 40 % of the run.
    assert.equal(parseOptions(["--minutes", "10"]).warmupS, 120);
    assert.equal(parseOptions(["--minutes", "20"]).warmupS, RELIST_S + 60);
    assert.ok(parseOptions(["--minutes", "20"]).warmupS > RELIST_S);
    assert.equal(parseOptions(["--minutes", "2"]).warmupS, 48);
    assert.equal(parseOptions(["--minutes", "20", "--warmup", "3"]).warmupS, 180);
    assert.throws(() => parseOptions(["--minutes", "5", "--warmup", "5"]), /--warmup/);
    assert.throws(() => parseOptions(["--bogus"]), /bogus/);
  });
});

describe("the soak's plot (bench/lib/plot.ts)", function () {
  it("niceScale covers the maximum with a 1-2-5 step", function () {
    fc.assert(fc.property(fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (max) => {
      const { top, step } = niceScale(max);
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
      return top >= max && top / step <= 11 && [1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6);
    }));
    assert.deepEqual(niceScale(0), { top: 1, step: 0.2 });
  });

  it("pathData breaks the line at a sample that could not be read", function () {
    const d = pathData([[0, 1], [1, 2], [2, NaN], [3, 4]], (x) => x * 10, (y) => y);
    assert.equal(d, "M0.0,1.0 L10.0,2.0 M30.0,4.0");
  });

  it("draws one path per series, the legend and the markers, with the text escaped", function () {
    const s = series((t) => 100 + t, { until: 60 });
    const html = chartHtml({ title: "a < b", subtitle: "s", panels: panels(s, ["control-plane"]), markers: [{ x: 0.5, label: "warm-up ends" }] });
    assert.match(html, /a &lt; b/);
    assert.equal((html.match(/<path /g) ?? []).length, 1 + 1 + 2 + 3, "RSS and heap: 1 process each; queues: cp + agents; reconciles: cp, agents, errors");
    assert.match(html, /warm-up ends/);
    assert.match(html, /stroke-dasharray/);
  });

  it("draws a marker's label left of its line when it would run into the legends at the right edge", function () {
    const s = series((t) => 100 + t, { until: 60 });
    const html = chartHtml({ title: "t", subtitle: "s", panels: panels(s, ["control-plane"]), markers: [{ x: 0.1, label: "churn starts" }, { x: 1, label: "churn ends" }] });
    assert.match(html, /<text [^>]*fill="#666">churn starts<\/text>/, "the positive control: room on the right");
    assert.match(html, /<text [^>]*text-anchor="end">churn ends<\/text>/);
  });
});
