import { noopQueueMetrics } from "../metrics/index.ts";
import type { QueueMetrics } from "../metrics/index.ts";
import type { Clock } from "./clock.ts";
import { defaultControllerRateLimiter } from "./rate-limiter.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/**
 * A keyed work queue with client-go's semantics (util/workqueue/queue.go), hand-written
 * because @kubernetes/client-node ships no workqueue and the npm queues we looked at are
 * job queues: none has the dirty/processing pair that gives "one reconcile in flight per
 * key" and "a key changed during its reconcile is reconciled again".
 *
 * - `dirty`: keys that need processing. `add` of a dirty key is a no-op (dedup).
 * - `processing`: keys a worker holds. `add` of such a key marks it dirty but does not
 *   queue it; `done` queues it then, so no two workers ever hold the same key.
 *
 * One deliberate difference: after `shutDown` client-go still hands out what is queued;
 * here `get` resolves undefined at once. Keys are level-based, so whoever starts next
 * reconciles everything from its cache anyway, and a stopping leader must stop writing.
 */
export class WorkQueue<K extends string = string> {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #metrics: QueueMetrics;
  readonly #queue: K[] = [];
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  /** When each dirty key was added, for the queue-duration metric. */
  readonly #addedAt = new Map<K, number>();
  /** When each held key was handed out, for work duration and unfinished work. */
  readonly #startedAt = new Map<K, number>();
  /** Pending addAfter timers, one per key: the earliest wins (client-go's waitingForQueue). */
  readonly #waiting = new Map<K, { at: number; cancel: AbortController }>();
  readonly #getters: ((key: K | undefined) => void)[] = [];
  readonly #drained: (() => void)[] = [];
  readonly #stop = new AbortController();

  constructor(params: { clock: Clock; rateLimiter?: RateLimiter; metrics?: QueueMetrics }) {
    this.#clock = params.clock;
    this.#limiter = params.rateLimiter ?? defaultControllerRateLimiter({ clock: params.clock });
    this.#metrics = params.metrics ?? noopQueueMetrics;
  }

  get shuttingDown(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Keys waiting for a worker (not those being processed). */
  len(): number {
    return this.#queue.length;
  }

  add(key: K): void {
    if (this.shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#metrics.added();
    this.#metrics.depth(1);
    this.#addedAt.set(key, this.#now());
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#handOut();
  }

  /** Adds `key` once `ms` have passed on the clock; several calls keep the earliest. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#now() + ms;
    const pending = this.#waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel.abort();
    const cancel = new AbortController();
    this.#waiting.set(key, { at, cancel });
    const signal = AbortSignal.any([cancel.signal, this.#stop.signal]);
    this.#clock.sleep(ms, signal).then(
      () => {
        if (this.#waiting.get(key)?.cancel === cancel) this.#waiting.delete(key);
        this.add(key);
      },
      () => undefined, // superseded by an earlier addAfter, or shut down
    );
  }

  /** Adds `key` after the rate limiter's delay for it (backoff on failure). */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.#metrics.retried();
    this.addAfter(key, this.#limiter.when(key));
  }

  /**
   * Every key in a failure's backoff is added now, its backoff started over (so is that of
   * a key being worked on, which may be failing on the same cause); returns how many were
   * added. For when what they failed on is back (NATS reconnected): with client-go's
   * backoff capped at 1,000 s, a key that failed through a two-minute outage would
   * otherwise wait minutes more after it ended. A key waiting for a requeueAfter of a
   * successful reconcile (a toleration, a certification's expiry) keeps its time.
   */
  retryFailedNow(): number {
    const keys = [...this.#waiting.keys()].filter((key) => this.#limiter.numRequeues(key) > 0);
    for (const key of keys) {
      this.#waiting.get(key)?.cancel.abort();
      this.#waiting.delete(key);
      this.#limiter.forget(key);
      this.add(key);
    }
    for (const key of this.#processing) this.#limiter.forget(key);
    return keys.length;
  }

  /** The key succeeded (or gave up): its backoff starts over. */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key, which the caller holds until `done(key)`. Resolves undefined when the
   * queue shuts down or `signal` aborts.
   */
  get(signal?: AbortSignal): Promise<K | undefined> {
    if (this.shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    return new Promise((resolve) => {
      const getter = (key: K | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(key);
      };
      const onAbort = () => {
        const i = this.#getters.indexOf(getter);
        if (i >= 0) this.#getters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#getters.push(getter);
    });
  }

  /** The worker is finished with `key`; if it was added meanwhile it is queued again. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#metrics.worked((this.#now() - started) / 1000);
    if (this.#dirty.has(key) && !this.shuttingDown) {
      this.#queue.push(key);
      this.#handOut();
    }
    if (this.#processing.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  /** Stops handing out keys: waiting `get`s resolve undefined, adds are ignored, timers stop. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.#stop.abort();
    this.#waiting.clear();
    for (const getter of this.#getters.splice(0)) getter(undefined);
    this.#metrics.depth(-this.#dirty.size);
    this.#queue.length = 0;
    this.#dirty.clear();
    this.#addedAt.clear();
  }

  /** Shuts down, then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Reports how long the held keys have been held (client-go samples this every 500 ms). */
  reportUnfinished(): void {
    const now = this.#now();
    let oldest = 0;
    let total = 0;
    for (const started of this.#startedAt.values()) {
      const seconds = (now - started) / 1000;
      total += seconds;
      oldest = Math.max(oldest, seconds);
    }
    this.#metrics.unfinished({ oldestSeconds: oldest, totalSeconds: total });
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #take(): K {
    const key = this.#queue.shift()!;
    this.#processing.add(key);
    this.#dirty.delete(key);
    const now = this.#now();
    this.#startedAt.set(key, now);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    this.#metrics.depth(-1);
    if (added !== undefined) this.#metrics.queued((now - added) / 1000);
    return key;
  }

  #handOut(): void {
    while (this.#getters.length > 0 && this.#queue.length > 0) this.#getters.shift()!(this.#take());
  }
}
