import assert from "node:assert/strict";
import { pino } from "pino";
import { TestClock } from "../../../operator/src/runtime/clock.ts";
import { Controller } from "../../../operator/src/runtime/controller.ts";
import { TerminalError } from "../../../operator/src/runtime/errors.ts";
import type { Result } from "../../../operator/src/runtime/types.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import type { ControllerMetrics } from "../../../operator/src/metrics/index.ts";

const log = pino({ level: "silent" });

type Step = Result | Error | (() => Promise<Result>);

/** A reconciler that plays a script per key and records every call. */
function scripted(script: Record<string, Step[]>) {
  const calls: string[] = [];
  return {
    calls,
    reconciler: {
      async reconcile(key: string): Promise<Result> {
        calls.push(key);
        const step = script[key]?.shift() ?? {};
        if (step instanceof Error) throw step;
        if (typeof step === "function") return step();
        return step;
      },
    },
  };
}

function recordingMetrics() {
  const events: string[] = [];
  let active = 0;
  let maxActive = 0;
  const metrics: ControllerMetrics = {
    reconciled: ({ controller, result }) => events.push(`${controller} ${result}`),
    reconcileError: ({ terminal }) => events.push(terminal ? "error terminal" : "error retried"),
    activeWorkers: ({ delta }) => { active += delta; maxActive = Math.max(maxActive, active); },
    maxWorkers: ({ count }) => events.push(`max ${count}`),
  };
  return { events, metrics, active: () => active, maxActive: () => maxActive };
}

function run(params: { script: Record<string, Step[]>; workers?: number }) {
  const clock = new TestClock();
  const { calls, reconciler } = scripted(params.script);
  const m = recordingMetrics();
  const controller = new Controller({ name: "test", reconciler, clock, log, metrics: m.metrics, workers: params.workers ?? 1, unfinishedSampleMs: 60_000 });
  const stop = new AbortController();
  const done = controller.start(stop.signal);
  return { clock, calls, controller, m, stop, done };
}

const until = (what: string, check: () => boolean) => waitFor(() => check(), { what, timeoutMs: 2000, intervalMs: 1 });

describe("Controller", () => {
  it("a success forgets the key and counts result=success", async () => {
    const t = run({ script: { a: [{}] } });
    t.controller.enqueue("a");
    await until("one reconcile", () => t.m.events.includes("test success"));
    assert.deepEqual(t.calls, ["a"]);
    assert.deepEqual(t.m.events, ["max 1", "test success"]);
    t.stop.abort();
    await t.done;
  });

  it("a retryable error is retried after the 5 ms backoff and counted as result=error", async () => {
    const t = run({ script: { a: [new Error("API server unreachable"), {}] } });
    t.controller.enqueue("a");
    await until("first attempt", () => t.m.events.includes("test error"));
    assert.deepEqual(t.calls, ["a"], "not retried before the backoff");
    await t.clock.advance(5);
    await until("retry", () => t.calls.length === 2);
    await until("retry result", () => t.m.events.includes("test success"));
    assert.deepEqual(t.m.events, ["max 1", "error retried", "test error", "test success"]);
    t.stop.abort();
    await t.done;
  });

  it("retryFailedNow reconciles a key in backoff at once, and its backoff starts over", async () => {
    const down = () => new Error("NATS unreachable");
    const t = run({ script: { a: [down(), down(), down(), down(), {}] } });
    t.controller.enqueue("a");
    await until("first failure", () => t.calls.length === 1 && t.m.events.includes("test error"));
    await t.clock.advance(5);
    await until("second failure", () => t.calls.length === 2 && t.m.events.filter((e) => e === "test error").length === 2);
    await t.clock.advance(10);
    await until("third failure, now 20 ms away", () => t.calls.length === 3 && t.m.events.filter((e) => e === "test error").length === 3);
    assert.equal(t.controller.retryFailedNow(), 1);
    await until("tried without the clock moving", () => t.calls.length === 4 && t.m.events.filter((e) => e === "test error").length === 4);
    await t.clock.advance(5);
    await until("the next failure backed off 5 ms again, not 40", () => t.calls.length === 5);
    assert.equal(t.controller.retryFailedNow(), 0, "nothing waits once it succeeded");
    t.stop.abort();
    await t.done;
  });

  it("retryFailedNow while a key's reconcile is in flight: if that reconcile then fails, its backoff starts over too", async () => {
    const down = () => new Error("NATS unreachable");
    let fail!: (err: Error) => void;
    const inFlight = () => new Promise<Result>((_resolve, reject) => { fail = reject; });
    const t = run({ script: { a: [down(), down(), down(), inFlight, {}] } });
    t.controller.enqueue("a");
    for (const [n, wait] of [[1, 5], [2, 10], [3, 20]] as const) {
      await until(`failure ${n}`, () => t.m.events.filter((e) => e === "test error").length === n);
      await t.clock.advance(wait);
    }
    await until("the fourth reconcile in flight", () => t.calls.length === 4);
    assert.equal(t.controller.retryFailedNow(), 0, "nothing waits: the key is held");
    fail(down());
    await until("the in-flight reconcile failed", () => t.m.events.filter((e) => e === "test error").length === 4);
    await t.clock.advance(5);
    await until("retried after 5 ms, not 40", () => t.calls.length === 5);
    t.stop.abort();
    await t.done;
  });

  it("a terminal error is counted and logged but never retried", async () => {
    const t = run({ script: { a: [new TerminalError("spec.residency: no such policy"), {}], b: [{}] } });
    t.controller.enqueue("a");
    await until("terminal error", () => t.m.events.includes("test error"));
    await t.clock.advance(60_000);
    // Positive control: the loop is alive and would have run "a" again had it been queued.
    t.controller.enqueue("b");
    await until("control key", () => t.calls.includes("b"));
    assert.deepEqual(t.calls, ["a", "b"]);
    assert.ok(t.m.events.includes("error terminal"));
    t.stop.abort();
    await t.done;
  });

  it("an error whose class says retryable: false is terminal too (isTerminal)", async () => {
    const notFound = Object.assign(new Error("MemberCluster x not found"), { retryable: false });
    const t = run({ script: { a: [notFound] } });
    t.controller.enqueue("a");
    await until("error", () => t.m.events.includes("error terminal"));
    t.stop.abort();
    await t.done;
  });

  it("requeueAfterMs reconciles the key again after that long, counted as requeue_after", async () => {
    const t = run({ script: { a: [{ requeueAfterMs: 30_000 }, {}] } });
    t.controller.enqueue("a");
    await until("first", () => t.m.events.includes("test requeue_after"));
    await t.clock.advance(29_999);
    assert.equal(t.calls.length, 1);
    await t.clock.advance(1);
    await until("requeued", () => t.calls.length === 2);
    t.stop.abort();
    await t.done;
  });

  it("never runs two reconciles of one key at once, but runs different keys in parallel", async () => {
    const gates: (() => void)[] = [];
    const slow = () => new Promise<Result>((resolve) => gates.push(() => resolve({})));
    const t = run({ workers: 3, script: { a: [slow, slow], b: [slow] } });
    t.controller.enqueue("a");
    t.controller.enqueue("b");
    await until("a and b in flight", () => gates.length === 2);
    t.controller.enqueue("a");
    t.controller.enqueue("a");
    assert.equal(t.m.active(), 2);
    assert.deepEqual(t.calls, ["a", "b"], "a second 'a' waits for the first");
    gates.shift()!();
    await until("second a", () => t.calls.length === 3);
    assert.deepEqual(t.calls, ["a", "b", "a"]);
    for (const g of gates.splice(0)) g();
    await until("all done", () => t.m.active() === 0);
    assert.equal(t.m.maxActive(), 2);
    t.stop.abort();
    await t.done;
  });

  it("survives a reconciler that throws a non-Error", async () => {
    const t = run({ script: { a: [() => Promise.reject("a string")], b: [{}] } });
    t.controller.enqueue("a");
    t.controller.enqueue("b");
    await until("b reconciled after a threw", () => t.m.events.includes("test success"));
    t.stop.abort();
    await t.done;
  });

  it("on stop the in-flight reconcile sees its signal abort and is awaited; queued keys are not started", async () => {
    const clock = new TestClock();
    let sawAbort = false;
    let finished = false;
    const calls: string[] = [];
    const controller = new Controller({
      name: "stop", clock, log, unfinishedSampleMs: 60_000,
      reconciler: {
        async reconcile(key, signal) {
          calls.push(key);
          await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
          sawAbort = true;
          await new Promise((r) => setImmediate(r));
          finished = true;
          return {};
        },
      },
    });
    const stop = new AbortController();
    const done = controller.start(stop.signal);
    controller.enqueue("a");
    controller.enqueue("b");
    await until("a in flight", () => calls.length === 1);
    stop.abort();
    await done;
    assert.ok(sawAbort && finished, "start returned only after the in-flight reconcile finished");
    assert.deepEqual(calls, ["a"]);
  });

  it("keeps keys enqueued before start and reconciles them once started", async () => {
    const clock = new TestClock();
    const { calls, reconciler } = scripted({});
    const controller = new Controller({ name: "early", reconciler, clock, log, unfinishedSampleMs: 60_000 });
    controller.enqueue("x");
    assert.equal(controller.queueLength, 1);
    assert.equal(controller.needLeaderElection, true);
    const stop = new AbortController();
    const done = controller.start(stop.signal);
    await until("x reconciled", () => calls.includes("x"));
    stop.abort();
    await done;
  });

  it("rejects a worker count that is not a positive integer, naming the field", () => {
    assert.throws(() => new Controller({ name: "bad", reconciler: scripted({}).reconciler, clock: new TestClock(), log, workers: 0 }), /workers: must be a positive integer/);
  });
});
