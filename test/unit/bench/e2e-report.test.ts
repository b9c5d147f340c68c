import assert from "node:assert/strict";
import fc from "fast-check";
import {
  counterSum, driftLine, latencySummary, median, overheadRows, overheadTable, PERCENTILES, percentileLabel, ratio, reconcileCounter,
} from "../../../bench/lib/e2e-report.ts";

const exposition = [
  "# HELP controller_runtime_reconcile_total Total number of reconciliations per controller",
  "# TYPE controller_runtime_reconcile_total counter",
  'controller_runtime_reconcile_total{controller="sovereignworkload",result="success"} 40',
  'controller_runtime_reconcile_total{controller="sovereignworkload",result="error"} 2',
  'controller_runtime_reconcile_total{controller="membercluster",result="success"} 900',
  "process_resident_memory_bytes 209715200",
  "nodejs_heap_size_used_bytes 52428800",
].join("\n");

describe("the e2e bench's figures (bench/lib/e2e-report.ts)", () => {
  it("summarises latencies at p50, p90, p99 (nearest rank), with max and throughput over the wall time", () => {
    const s = latencySummary(Array.from({ length: 100 }, (_, i) => 100 - i), 10_000);
    assert.deepEqual(PERCENTILES.map(percentileLabel), ["p50", "p90", "p99"]);
    assert.deepEqual(s.percentiles, [50, 90, 99]);
    assert.equal(s.max, 100);
    assert.equal(s.n, 100);
    assert.equal(s.throughputPerS, 10);
  });

  it("percentiles never decrease and stay within the samples (property)", () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (xs) => {
      const s = latencySummary(xs, 1000);
      for (let i = 1; i < s.percentiles.length; i++) assert.ok(s.percentiles[i]! >= s.percentiles[i - 1]!);
      assert.ok(s.percentiles[0]! >= Math.min(...xs) && s.max === Math.max(...xs));
    }));
  });

  it("overhead is federated − direct at each percentile, and the table marks each against the target", () => {
    const direct = latencySummary([1000, 2000, 3000], 3000);
    const federated = latencySummary([1500, 2500, 5000], 4000);
    assert.deepEqual(overheadRows(direct, federated).map((r) => [r.label, r.overhead]), [["p50", 500], ["p90", 2000], ["p99", 2000]]);
    const lines = overheadTable({ direct, federated, targetMs: 1000 }).split("\n");
    assert.match(lines[0]!, /direct\s+federated\s+overhead\s+\(target ≤ 1000 ms\)$/);
    assert.match(lines[1]!, /^p50\s+2000 ms\s+2500 ms\s+\+500 ms\s+meets target$/);
    assert.match(lines[3]!, /^p99\s+3000 ms\s+5000 ms\s+\+2000 ms\s+MISSES target$/);
    assert.match(lines[5]!, /^throughput\s+1\.0\/s\s+0\.8\/s$/);
  });

  it("a negative overhead is printed with its sign, and meets the target", () => {
    const row = overheadTable({ direct: latencySummary([900], 1000), federated: latencySummary([700], 1000), targetMs: 1000 }).split("\n")[1]!;
    assert.match(row, /−200 ms\s+meets target$/);
  });

  it("ratio is federated/direct, and NaN (never Infinity) without a baseline", () => {
    assert.equal(ratio(9, 10), 0.9);
    assert.ok(Number.isNaN(ratio(9, 0)));
    assert.ok(Number.isNaN(ratio(NaN, 10)));
  });

  it("sums a counter's samples whose labels match, and tells a missing metric (undefined) from zero", () => {
    assert.equal(counterSum(exposition, "controller_runtime_reconcile_total", { controller: "sovereignworkload" }), 42);
    assert.equal(counterSum(exposition, "controller_runtime_reconcile_total"), 942);
    assert.equal(counterSum(exposition, "controller_runtime_reconcile_total", { controller: "nope" }), undefined);
    assert.equal(counterSum(exposition, "controller_runtime_reconcile"), undefined, "a prefix of a name is not the name");
    assert.equal(counterSum("x_total 0", "x_total"), 0);
    assert.equal(counterSum(exposition, "process_resident_memory_bytes"), 200 * 1024 * 1024);
  });

  it("counts scheduling reconciles with the dedicated counter when there is one, else the workload controller's, and says which", () => {
    const fallback = reconcileCounter(exposition)!;
    assert.equal(fallback.name, "controller_runtime_reconcile_total");
    assert.equal(fallback.value, 42);
    assert.match(fallback.counts, /no scheduling-only counter/);
    const dedicated = reconcileCounter(`${exposition}\nsovereign_scheduling_reconciles_total{result="success"} 7`)!;
    assert.equal(dedicated.name, "sovereign_scheduling_reconciles_total");
    assert.equal(dedicated.value, 7);
    assert.equal(reconcileCounter("process_resident_memory_bytes 1"), undefined);
  });

  it("says drift was restored in how long, or honestly that it was not restored within the wait", () => {
    assert.match(driftLine({ kind: "deleted", restoredMs: 1200, timeoutMs: 30_000 }, 5000), /^Deployment deleted on a member\s+restored in 1200 ms \(target ≤ 5 s: meets target\)$/);
    assert.match(driftLine({ kind: "scaled", timeoutMs: 30_000 }, 5000), /^Deployment scaled on a member\s+not restored within 30 s \(target ≤ 5 s: MISSES target\)$/);
    assert.match(driftLine({ kind: "edited", timeoutMs: 30_000, error: "no Deployment" }, 5000), /not measured: no Deployment$/);
  });

  it("median of a few rounds", () => {
    assert.equal(median([3, 1, 2]), 2);
  });
});
