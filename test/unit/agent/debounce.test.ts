import assert from "node:assert/strict";
import { Debouncer, KeyedLock } from "../../../operator/src/agent/index.ts";
import { TestClock } from "../../../operator/src/runtime/index.ts";

const settle = () => new Promise((r) => setImmediate(r));

describe("agent: status debouncing", () => {
  it("publishes a burst of changes of one workload once, after the delay, and each workload on its own", async () => {
    const clock = new TestClock();
    const fired: string[] = [];
    const d = new Debouncer({ clock, delayMs: 200, fire: async (k) => { fired.push(k); } });
    for (let i = 0; i < 10; i++) d.schedule("a");
    d.schedule("b");
    await clock.advance(199);
    assert.deepEqual(fired, []);
    await clock.advance(1);
    await settle();
    assert.deepEqual(fired.sort(), ["a", "b"]);
    await d.stop();
  });

  it("fires again for a change that came while the previous fire was running, so the last change is never lost", async () => {
    const clock = new TestClock();
    let release!: () => void;
    const fired: number[] = [];
    let n = 0;
    const d = new Debouncer({ clock, delayMs: 10, fire: async () => { fired.push(++n); if (n === 1) await new Promise<void>((r) => (release = r)); } });
    d.schedule("a");
    await clock.advance(10);
    await settle();
    d.schedule("a");
    release();
    await settle();
    await clock.advance(10);
    await settle();
    assert.deepEqual(fired, [1, 2]);
    await d.stop();
  });
});

describe("agent: one operation at a time per workload", () => {
  it("serialises operations on one key and lets other keys run meanwhile", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let release!: () => void;
    const first = lock.run("a", async () => { log.push("a1 start"); await new Promise<void>((r) => (release = r)); log.push("a1 end"); });
    const second = lock.run("a", async () => { log.push("a2"); });
    await lock.run("b", async () => { log.push("b"); });
    assert.deepEqual(log, ["a1 start", "b"]);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(log, ["a1 start", "b", "a1 end", "a2"]);
  });
});
