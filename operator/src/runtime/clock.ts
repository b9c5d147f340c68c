/**
 * The one notion of time: `now()` for decisions, `sleep()` for waits that a test
 * clock can fast-forward. Everything that reads the time takes a Clock; only
 * `systemClock` touches the real one.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * setTimeout takes at most 2^31-1 ms (24.8 days) and fires at once for anything longer
 * (a certification valid for months asks for such a wait): longer sleeps are chained.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const end = Date.now() + Math.max(0, ms);
      let timer: ReturnType<typeof setTimeout>;
      const arm = () => {
        timer = setTimeout(() => {
          if (Date.now() < end) return arm();
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, Math.min(MAX_TIMER_MS, Math.max(0, end - Date.now())));
      };
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      arm();
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** A clock that moves only when told to: `advance(ms)` wakes the sleepers whose time has come, in order. */
export class TestClock implements Clock {
  #now: number;
  readonly #sleepers: { at: number; resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }[] = [];

  constructor(start: Date | string | number = "2026-11-28T10:00:00Z") {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper = {
        at: this.#now + Math.max(0, ms),
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.#sleepers.splice(this.#sleepers.indexOf(sleeper), 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener("abort", sleeper.onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Number of pending sleeps, so a test can wait until the code under test is waiting. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ms`, resolving due sleeps in time order (awaiting between them). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers[0];
      if (!next || next.at > target) break;
      this.#sleepers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve();
      // Let the woken code run (and maybe sleep again) before the next one.
      await new Promise((r) => setImmediate(r));
    }
    this.#now = target;
  }

  set(at: Date | string | number): void {
    this.#now = new Date(at).getTime();
  }
}
