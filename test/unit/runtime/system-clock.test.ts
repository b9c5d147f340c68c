import assert from "node:assert/strict";
import { mock } from "node:test";
import { MAX_TIMER_MS, systemClock } from "../../../operator/src/runtime/index.ts";

// A requeue at a certification's validUntil can be months away. setTimeout fires at once
// for anything above 2^31-1 ms, which made such a requeue spin; the system clock chains
// timers instead. Node's mock timers move setTimeout and Date together.
describe("systemClock.sleep", function () {
  // Mock timers do not reproduce the overflow, so every delay asked of setTimeout is recorded too.
  const armed: number[] = [];
  let mocked: typeof setTimeout;
  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.parse("2026-11-28T00:00:00Z") });
    mocked = globalThis.setTimeout;
    armed.length = 0;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      armed.push(ms ?? 0);
      return mocked(fn, ms);
    }) as typeof setTimeout;
  });
  afterEach(() => {
    globalThis.setTimeout = mocked;
    mock.timers.reset();
  });

  it("waits the whole of a sleep longer than setTimeout's 24.8-day limit, not a millisecond", async function () {
    const ninetyDays = 90 * 86_400_000;
    assert.ok(ninetyDays > MAX_TIMER_MS);
    let woke = false;
    const sleeping = systemClock.sleep(ninetyDays).then(() => { woke = true; });
    mock.timers.tick(1);
    await Promise.resolve();
    assert.equal(woke, false, "woke after 1 ms");
    mock.timers.tick(MAX_TIMER_MS);
    await Promise.resolve();
    assert.equal(woke, false, "woke after one timer's worth");
    mock.timers.tick(ninetyDays - MAX_TIMER_MS - 2);
    await Promise.resolve();
    assert.equal(woke, false, "woke 1 ms early");
    mock.timers.tick(1);
    await sleeping;
    assert.equal(woke, true);
    assert.ok(Math.max(...armed) <= MAX_TIMER_MS, `a timer of ${Math.max(...armed)} ms fires at once in Node`);
    assert.ok(armed.length >= 2, "the wait was chained");
  });

  it("still ends early when its signal aborts (positive control that the chain is cancellable)", async function () {
    const abort = new AbortController();
    const sleeping = systemClock.sleep(60 * 86_400_000, abort.signal);
    mock.timers.tick(MAX_TIMER_MS + 5);
    abort.abort(new Error("stop"));
    await assert.rejects(sleeping, /stop/);
  });
});
