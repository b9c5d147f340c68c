import type { Clock } from "../runtime/index.ts";

/**
 * Coalesces bursts of changes per key: the first `schedule(key)` starts a timer of
 * `delayMs`; later calls before it fires are absorbed; `fire(key)` runs once, reading
 * whatever the state is by then (level-based). A key scheduled while its fire runs is
 * fired again after, so the last change is never lost.
 */
export class Debouncer {
  readonly #clock: Clock;
  readonly #delayMs: number;
  readonly #fire: (key: string) => Promise<void>;
  readonly #onError: (key: string, err: unknown) => void;
  readonly #pending = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #abort = new AbortController();

  constructor(params: { clock: Clock; delayMs: number; fire: (key: string) => Promise<void>; onError?: (key: string, err: unknown) => void }) {
    this.#clock = params.clock;
    this.#delayMs = params.delayMs;
    this.#fire = params.fire;
    this.#onError = params.onError ?? (() => undefined);
  }

  schedule(key: string): void {
    if (this.#abort.signal.aborted) return;
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    if (this.#pending.has(key)) return;
    this.#pending.add(key);
    this.#clock.sleep(this.#delayMs, this.#abort.signal).then(() => this.#run(key), () => this.#pending.delete(key));
  }

  async #run(key: string): Promise<void> {
    this.#pending.delete(key);
    const run = this.#fire(key).catch((err: unknown) => this.#onError(key, err));
    this.#running.set(key, run);
    await run;
    this.#running.delete(key);
    if (this.#again.delete(key)) this.schedule(key);
  }

  /** Keys waiting or running: for tests and shutdown. */
  get busy(): number {
    return this.#pending.size + this.#running.size;
  }

  /** Drops what is pending and waits for fires in progress. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("debouncer stopped"));
    this.#pending.clear();
    this.#again.clear();
    await Promise.allSettled([...this.#running.values()]);
  }
}

/** One operation at a time per key (the consumer and a resync may touch the same workload). */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = before.then(() => mine);
    this.#tails.set(key, tail);
    await before;
    try {
      return await op();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
