import assert from "node:assert/strict";
import fc from "fast-check";
import { TestClock } from "../../../operator/src/runtime/clock.ts";
import { WorkQueue } from "../../../operator/src/runtime/workqueue.ts";
import type { QueueMetrics } from "../../../operator/src/metrics/index.ts";

/** Lets pending promise callbacks (timers resolved by the test clock) run. */
const settle = () => new Promise((r) => setImmediate(r));

function newQueue(clock = new TestClock()) {
  return { clock, queue: new WorkQueue<string>({ clock }) };
}

describe("WorkQueue", () => {
  type Step = ["add", string] | ["get", string | undefined] | ["done", string] | ["len", number];
  const table: { name: string; steps: Step[] }[] = [
    { name: "hands keys out in the order they were added", steps: [["add", "a"], ["add", "b"], ["get", "a"], ["get", "b"], ["len", 0]] },
    { name: "ignores an add of a key that is already queued (dedup)", steps: [["add", "a"], ["add", "a"], ["len", 1], ["get", "a"], ["len", 0]] },
    { name: "does not hand out a key being processed, even when added again", steps: [["add", "a"], ["get", "a"], ["add", "a"], ["len", 0]] },
    { name: "queues a key added during processing again once it is done", steps: [["add", "a"], ["get", "a"], ["add", "a"], ["done", "a"], ["len", 1], ["get", "a"]] },
    { name: "does not queue a finished key that was not added again", steps: [["add", "a"], ["get", "a"], ["done", "a"], ["len", 0]] },
    { name: "collapses several adds during processing into one", steps: [["add", "a"], ["get", "a"], ["add", "a"], ["add", "a"], ["done", "a"], ["len", 1]] },
    { name: "keeps other keys flowing while one is processed", steps: [["add", "a"], ["get", "a"], ["add", "a"], ["add", "b"], ["get", "b"], ["len", 0]] },
  ];
  for (const { name, steps } of table) {
    it(name, async () => {
      const { queue } = newQueue();
      for (const [op, arg] of steps) {
        if (op === "add") queue.add(arg);
        else if (op === "done") queue.done(arg);
        else if (op === "len") assert.equal(queue.len(), arg);
        else assert.equal(await queue.get(AbortSignal.timeout(50)), arg);
      }
    });
  }

  it("wakes a waiting get when a key is added", async () => {
    const { queue } = newQueue();
    const got = queue.get();
    queue.add("late");
    assert.equal(await got, "late");
  });

  it("resolves waiting and later gets with undefined after shutDown, and ignores adds", async () => {
    const { queue } = newQueue();
    const waiting = queue.get();
    queue.add("a");
    assert.equal(await waiting, "a");
    const next = queue.get();
    queue.shutDown();
    assert.equal(await next, undefined);
    queue.add("b");
    assert.equal(await queue.get(), undefined);
    assert.equal(queue.len(), 0);
  });

  it("resolves a get with undefined when its signal aborts, and the key it did not take stays queued", async () => {
    const { queue } = newQueue();
    const ac = new AbortController();
    const got = queue.get(ac.signal);
    ac.abort();
    assert.equal(await got, undefined);
    queue.add("a");
    assert.equal(queue.len(), 1, "the aborted getter must not have swallowed the key");
  });

  it("shutDownWithDrain resolves only after the keys handed out are done", async () => {
    const { queue } = newQueue();
    queue.add("a");
    await queue.get();
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    await settle();
    assert.equal(drained, false, "drain must wait for the key in processing");
    queue.done("a");
    await drain;
    assert.equal(drained, true);
  });

  it("addAfter adds the key only once the clock has moved past the delay", async () => {
    const { clock, queue } = newQueue();
    queue.addAfter("a", 1000);
    await clock.advance(999);
    assert.equal(queue.len(), 0);
    await clock.advance(1);
    await settle();
    assert.equal(queue.len(), 1);
  });

  it("addAfter keeps the earliest of several delays for a key and adds it once", async () => {
    const { clock, queue } = newQueue();
    queue.addAfter("a", 5000);
    queue.addAfter("a", 1000);
    queue.addAfter("a", 3000);
    await clock.advance(1000);
    await settle();
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), "a");
    queue.done("a");
    await clock.advance(10_000);
    await settle();
    assert.equal(queue.len(), 0, "the superseded timers must not add the key again");
  });

  it("addRateLimited backs a failing key off 5 ms, 10 ms, 20 ms, and forget starts over", async () => {
    const { clock, queue } = newQueue();
    for (const delay of [5, 10, 20]) {
      queue.addRateLimited("a");
      await clock.advance(delay - 1);
      await settle();
      assert.equal(queue.len(), 0, `not before ${delay} ms`);
      await clock.advance(1);
      await settle();
      assert.equal(queue.len(), 1, `after ${delay} ms`);
      assert.equal(await queue.get(), "a");
      queue.done("a");
    }
    assert.equal(queue.numRequeues("a"), 3);
    queue.forget("a");
    assert.equal(queue.numRequeues("a"), 0);
  });

  it("retryFailedNow adds every key in a failure's backoff at once, backoff started over; a requeueAfter keeps its time", async () => {
    const { clock, queue } = newQueue();
    // "a" failed 14 times in a row (an outage): its next try is 5 ms × 2^14 ≈ 82 s away.
    for (let i = 0; i < 14; i++) {
      queue.addRateLimited("a");
      await clock.advance(5 * 2 ** i);
      await settle();
      assert.equal(await queue.get(), "a");
      queue.done("a");
    }
    queue.addRateLimited("a");
    queue.addAfter("b", 60_000);
    queue.add("c");
    assert.equal(await queue.get(), "c");
    queue.done("c");
    await clock.advance(1_000);
    await settle();
    assert.equal(queue.len(), 0, "the positive control: nothing is due yet");
    assert.equal(queue.retryFailedNow(), 1);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), "a");
    queue.done("a");
    assert.equal(queue.numRequeues("a"), 0, "the backoff starts over");
    // "b" (a requeueAfter, no failure) comes at its time, and the cancelled timer of "a" adds nothing.
    await clock.advance(58_999);
    await settle();
    assert.equal(queue.len(), 0);
    await clock.advance(1);
    await settle();
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), "b");
    queue.done("b");
    await clock.advance(200_000);
    await settle();
    assert.equal(queue.len(), 0);
    assert.equal(queue.retryFailedNow(), 0);
  });

  it("retryFailedNow keeps one worker per key: a failed key a worker holds is handed out again only once done, a queued one is not queued twice", async () => {
    const { queue } = newQueue();
    queue.add("held");
    assert.equal(await queue.get(), "held");
    queue.addRateLimited("held");
    queue.add("queued");
    queue.addRateLimited("queued");
    queue.addRateLimited("queued");
    assert.equal(queue.retryFailedNow(), 2);
    assert.equal(queue.len(), 1, "the queued key once; the held one waits for its worker");
    assert.equal(await queue.get(), "queued");
    assert.equal(await queue.get(AbortSignal.timeout(50)), undefined, "no second worker gets the held key");
    queue.done("held");
    assert.equal(queue.len(), 1, "tried again once its worker is done");
    assert.equal(await queue.get(), "held");
  });

  it("reports depth, adds, queue and work durations, retries and unfinished work", async () => {
    const clock = new TestClock();
    const calls: string[] = [];
    let depth = 0;
    const metrics: QueueMetrics = {
      depth: (d) => { depth += d; },
      added: () => calls.push("added"),
      queued: (s) => calls.push(`queued ${s}`),
      worked: (s) => calls.push(`worked ${s}`),
      retried: () => calls.push("retried"),
      unfinished: ({ oldestSeconds, totalSeconds }) => calls.push(`unfinished ${oldestSeconds} ${totalSeconds}`),
    };
    const queue = new WorkQueue<string>({ clock, metrics });
    queue.add("a");
    queue.add("a");
    queue.add("b");
    assert.equal(depth, 2);
    await clock.advance(2000);
    await queue.get();
    assert.equal(depth, 1);
    await clock.advance(500);
    queue.reportUnfinished();
    queue.done("a");
    queue.addRateLimited("a");
    assert.deepEqual(calls, ["added", "added", "queued 2", "unfinished 0.5 0.5", "worked 0.5", "retried"]);
    queue.shutDown();
    assert.equal(depth, 0, "shutDown drops the queued keys from the depth");
  });

  /**
   * A model of client-go's queue: the same operations on plain sets. The property also
   * checks the invariants directly: a key is never held twice, nothing added is lost.
   */
  it("behaves like client-go's queue model for random add/get/done/addAfter sequences", async () => {
    const keys = ["a", "b", "c", "d"];
    const op = fc.oneof(
      fc.record({ op: fc.constant("add" as const), key: fc.constantFrom(...keys) }),
      fc.record({ op: fc.constant("addAfter" as const), key: fc.constantFrom(...keys), ms: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ op: fc.constant("get" as const) }),
      fc.record({ op: fc.constant("done" as const), index: fc.nat() }),
      fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 20 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const clock = new TestClock();
        const queue = new WorkQueue<string>({ clock });
        const model = { queue: [] as string[], dirty: new Set<string>(), processing: new Set<string>(), timers: [] as { at: number; key: string }[] };
        let now = 0;
        const held: string[] = [];
        const modelAdd = (key: string) => {
          if (model.dirty.has(key)) return;
          model.dirty.add(key);
          if (!model.processing.has(key)) model.queue.push(key);
        };
        for (const o of ops) {
          if (o.op === "add") {
            queue.add(o.key);
            modelAdd(o.key);
          } else if (o.op === "addAfter") {
            queue.addAfter(o.key, o.ms);
            if (o.ms <= 0) modelAdd(o.key);
            else {
              const existing = model.timers.find((t) => t.key === o.key);
              if (!existing) model.timers.push({ at: now + o.ms, key: o.key });
              else existing.at = Math.min(existing.at, now + o.ms);
            }
          } else if (o.op === "tick") {
            now += o.ms;
            await clock.advance(o.ms);
            await settle();
            for (const t of [...model.timers].sort((x, y) => x.at - y.at)) {
              if (t.at <= now) {
                model.timers.splice(model.timers.indexOf(t), 1);
                modelAdd(t.key);
              }
            }
          } else if (o.op === "get") {
            const expected = model.queue.shift();
            const got = expected === undefined ? undefined : await queue.get();
            assert.equal(queue.len(), model.queue.length);
            assert.equal(got, expected);
            if (got !== undefined) {
              assert.ok(!held.includes(got), `${got} handed to two workers at once`);
              held.push(got);
              model.processing.add(got);
              model.dirty.delete(got);
            }
          } else if (held.length > 0) {
            const key = held.splice(o.index % held.length, 1)[0]!;
            queue.done(key);
            model.processing.delete(key);
            if (model.dirty.has(key)) model.queue.push(key);
          }
          assert.equal(queue.len(), model.queue.length);
        }
        // No key is lost: everything dirty is either queued or comes back when its holder is done.
        for (const key of held.splice(0)) {
          queue.done(key);
          model.processing.delete(key);
          if (model.dirty.has(key)) model.queue.push(key);
        }
        const drained: string[] = [];
        while (queue.len() > 0) {
          const key = (await queue.get())!;
          drained.push(key);
          queue.done(key);
        }
        assert.deepEqual(drained.sort(), [...model.dirty].sort());
      }),
      { numRuns: Number(process.env.FC_NUM_RUNS ?? 300) },
    );
  });
});

describe("WorkQueue: edges of done, get and drain", () => {
  it("done of a key no worker holds changes nothing (a queued key is not queued twice)", async () => {
    const { queue } = newQueue();
    queue.add("a");
    queue.done("a");
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(AbortSignal.timeout(50)), "a");
    assert.equal(queue.len(), 0);
  });

  it("get with an aborted signal resolves undefined and leaves the queued key for the next get", async () => {
    const { queue } = newQueue();
    queue.add("a");
    assert.equal(await queue.get(AbortSignal.abort()), undefined);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), "a");
  });

  it("shutDownWithDrain resolves only once every held key is done", async () => {
    const { queue } = newQueue();
    queue.add("a");
    queue.add("b");
    await queue.get();
    await queue.get();
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    queue.done("a");
    await settle();
    assert.equal(drained, false, "b is still held");
    queue.done("b");
    await drain;
    assert.equal(drained, true);
  });
});
