import assert from "node:assert/strict";
import { TestClock } from "../../../operator/src/runtime/clock.ts";
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from "../../../operator/src/runtime/rate-limiter.ts";

describe("rate limiters", () => {
  it("per key: 5 ms doubling on every failure", () => {
    const l = new ExponentialFailureRateLimiter({ baseMs: 5, maxMs: 1_000_000 });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => l.when("a")), [5, 10, 20, 40, 80]);
    assert.equal(l.when("b"), 5, "another key has its own count");
    assert.equal(l.numRequeues("a"), 5);
  });

  it("per key: capped at 1000 s, and stays finite after thousands of failures", () => {
    const l = new ExponentialFailureRateLimiter({ baseMs: 5, maxMs: 1_000_000 });
    const delays = Array.from({ length: 3000 }, () => l.when("a"));
    // 5 ms × 2^17 = 655 s < 1000 s < 5 ms × 2^18
    assert.equal(delays[17], 655_360);
    assert.equal(delays[18], 1_000_000);
    assert.equal(delays.at(-1), 1_000_000);
  });

  it("per key: forget starts the backoff over", () => {
    const l = new ExponentialFailureRateLimiter({ baseMs: 5, maxMs: 1_000_000 });
    l.when("a");
    l.when("a");
    l.forget("a");
    assert.equal(l.numRequeues("a"), 0);
    assert.equal(l.when("a"), 5);
  });

  it("bucket: a burst of 100 passes at once, then one every 100 ms (10 qps)", () => {
    const clock = new TestClock();
    const l = new BucketRateLimiter({ qps: 10, burst: 100, clock });
    const burst = Array.from({ length: 100 }, (_, i) => l.when(`k${i}`));
    assert.ok(burst.every((d) => d === 0));
    assert.equal(Math.round(l.when("x")), 100);
    assert.equal(Math.round(l.when("y")), 200);
  });

  it("bucket: refills with time, never above the burst", async () => {
    const clock = new TestClock();
    const l = new BucketRateLimiter({ qps: 10, burst: 100, clock });
    for (let i = 0; i < 100; i++) l.when("k");
    await clock.advance(1000);
    const after = Array.from({ length: 11 }, () => l.when("k"));
    assert.deepEqual(after.slice(0, 10), Array(10).fill(0), "1 s at 10 qps gave 10 tokens back");
    assert.ok(after[10]! > 0);
    await clock.advance(3_600_000);
    const full = Array.from({ length: 101 }, () => l.when("k"));
    assert.equal(full.filter((d) => d === 0).length, 100, "an hour idle refills to the burst, not beyond");
  });

  it("max-of: the longer of the two waits, and both record the attempt", () => {
    const clock = new TestClock();
    const l = new MaxOfRateLimiter([new ExponentialFailureRateLimiter({ baseMs: 5, maxMs: 1_000_000 }), new BucketRateLimiter({ qps: 10, burst: 1, clock })]);
    assert.equal(l.when("a"), 5, "bucket has a token: the per-key 5 ms wins");
    assert.equal(Math.round(l.when("a")), 100, "bucket empty: its 100 ms beats the per-key 10 ms");
    assert.equal(l.numRequeues("a"), 2);
  });

  it("the default controller limiter is client-go's: 5 ms first, 100 free retries across keys, then 10 qps", () => {
    const clock = new TestClock();
    const l = defaultControllerRateLimiter({ clock });
    const firsts = Array.from({ length: 100 }, (_, i) => l.when(`k${i}`));
    assert.ok(firsts.every((d) => d === 5));
    assert.equal(Math.round(l.when("k100")), 100);
  });
});
