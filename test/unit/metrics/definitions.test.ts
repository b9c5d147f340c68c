import assert from "node:assert/strict";
import { METRICS, type MetricDefinition } from "../../../operator/src/metrics/index.ts";
import { exercisedAgent, exercisedControlPlane } from "./exercise.ts";
import { bucketsOf, labelNamesOf, parseExposition } from "./scrape.ts";

const DEFINITIONS: readonly MetricDefinition[] = Object.values(METRICS);

describe("metrics: the definitions table", () => {
  it("defines each name once", () => {
    const names = DEFINITIONS.map((d) => d.name);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
  });

  for (const d of DEFINITIONS) {
    it(`${d.name}: snake_case, _total only on a counter, a unit suffix on durations and ages, a HELP of a sentence`, () => {
      assert.match(d.name, /^[a-z][a-z0-9_]*$/);
      assert.equal(d.name.endsWith("_total"), d.type === "counter");
      if (/(^|_)(duration|time|age)(_|$)/.test(d.name)) assert.match(d.name, /_seconds(_total)?$/);
      assert.match(d.help, /^[A-Z0-9].{15,}\.$/);
      for (const l of d.labelNames) assert.match(l, /^[a-z][a-z_]*$/);
      if (d.type === "histogram") {
        assert.ok(d.buckets && d.buckets.length > 0, "a histogram has buckets");
        assert.deepEqual([...d.buckets].sort((a, b) => a - b), [...d.buckets], "ascending");
      } else {
        assert.equal(d.buckets, undefined);
      }
    });
  }

  it("never labels a sovereign_* metric by workload, namespace or uid", () => {
    const offending = DEFINITIONS.filter((d) => d.labelNames.some((l) => /workload|namespace|uid|name$/.test(l)));
    assert.deepEqual(offending.map((d) => d.name), ["workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds",
      "workqueue_work_duration_seconds", "workqueue_retries_total", "workqueue_unfinished_work_seconds", "workqueue_longest_running_processor_seconds"],
    "only the workqueue's `name` (the queue's name) may match");
  });

  it("is what the two registries export: every definition with its type, HELP, labels and buckets, and beyond them only Node's process metrics", async () => {
    const families = parseExposition(await exercisedControlPlane({ processMetrics: true }).metrics());
    for (const [name, f] of parseExposition(await exercisedAgent({ processMetrics: false }).metrics())) if (!families.has(name)) families.set(name, f);
    for (const d of DEFINITIONS) {
      const f = families.get(d.name);
      assert.ok(f, `${d.name} exported`);
      assert.equal(f.type, d.type, d.name);
      assert.equal(f.help, d.help, d.name);
      assert.ok(f.samples.length > 0, `${d.name} has a sample after exercise`);
      assert.deepEqual(labelNamesOf(f), [...d.labelNames].sort(), d.name);
      if (d.buckets) {
        const { le: _le, ...series } = f.samples[0]?.labels ?? {};
        assert.deepEqual(bucketsOf(f, series), [...d.buckets], d.name);
      }
    }
    const defined = new Set(DEFINITIONS.map((d) => d.name));
    const others = [...families.keys()].filter((n) => !defined.has(n));
    assert.ok(others.length > 0, "positive control: process metrics are there");
    assert.deepEqual(others.filter((n) => !/^(process|nodejs)_/.test(n)), []);
  });
});
