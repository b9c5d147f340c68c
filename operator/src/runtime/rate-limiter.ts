import type { Clock } from "./clock.ts";

/**
 * client-go's workqueue rate limiters (util/workqueue/default_rate_limiters.go): how long a
 * key waits before it is retried. `when` both answers and records the attempt.
 */
export interface RateLimiter {
  when(key: string): number;
  /** The key succeeded: its backoff starts over. */
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Per key: base × 2^failures, capped (client-go ItemExponentialFailureRateLimiter). */
export class ExponentialFailureRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  constructor(params: { baseMs: number; maxMs: number }) {
    this.#baseMs = params.baseMs;
    this.#maxMs = params.maxMs;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the cap; Math.min keeps it finite.
    return Math.min(this.#baseMs * 2 ** failures, this.#maxMs);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * One token bucket for all keys (client-go BucketRateLimiter over golang.org/x/time/rate):
 * each call reserves a token and waits until it would be available, so a burst of
 * failures across many keys is spread out at `qps` after the first `burst`.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(params: { qps: number; burst: number; clock: Clock }) {
    this.#qps = params.qps;
    this.#burst = params.burst;
    this.#clock = params.clock;
    this.#tokens = params.burst;
    this.#last = params.clock.now().getTime();
  }

  when(_key: string): number {
    const now = this.#clock.now().getTime();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest wait any of the limiters asks for (client-go MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(limiters: readonly RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must record the attempt, so no short-circuit.
    return this.#limiters.map((l) => l.when(key)).reduce((a, b) => Math.max(a, b), 0);
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiters.map((l) => l.numRequeues(key)).reduce((a, b) => Math.max(a, b), 0);
  }
}

export const DEFAULT_RATE_LIMITS = { baseMs: 5, maxMs: 1_000_000, qps: 10, burst: 100 } as const;

/** client-go's DefaultControllerRateLimiter: per key 5 ms doubling to 1000 s, overall 10 qps burst 100. */
export function defaultControllerRateLimiter(params: { clock: Clock }): RateLimiter {
  return new MaxOfRateLimiter([
    new ExponentialFailureRateLimiter({ baseMs: DEFAULT_RATE_LIMITS.baseMs, maxMs: DEFAULT_RATE_LIMITS.maxMs }),
    new BucketRateLimiter({ qps: DEFAULT_RATE_LIMITS.qps, burst: DEFAULT_RATE_LIMITS.burst, clock: params.clock }),
  ]);
}
