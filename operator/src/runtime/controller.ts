import type { Logger } from "pino";
import { noopControllerMetrics, noopQueueMetricsProvider } from "../metrics/index.ts";
import type { ControllerMetrics, QueueMetricsProvider, ReconcileResult } from "../metrics/index.ts";
import type { Clock } from "./clock.ts";
import { isTerminal } from "./errors.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { EventSource, Reconciler, Result, Runnable } from "./types.ts";
import { WorkQueue } from "./workqueue.ts";

export interface ControllerParams<K extends string> {
  name: string;
  reconciler: Reconciler<K>;
  /** Concurrent reconciles across keys (never two for one key). Default 1. */
  workers?: number;
  clock: Clock;
  log: Logger;
  metrics?: ControllerMetrics;
  queueMetrics?: QueueMetricsProvider;
  rateLimiter?: RateLimiter;
  /** Default true: a controller writes, so only the leader runs it. */
  needLeaderElection?: boolean;
  /** How often unfinished work is sampled for metrics (client-go: 500 ms). */
  unfinishedSampleMs?: number;
}

/**
 * controller-runtime's Controller: a queue of keys and workers that reconcile them. The
 * queue exists from construction, so keys enqueued by informers before this replica
 * becomes leader are waiting when it starts.
 */
export class Controller<K extends string = string> implements Runnable {
  readonly name: string;
  readonly needLeaderElection: boolean;
  readonly #reconciler: Reconciler<K>;
  readonly #workers: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #queue: WorkQueue<K>;
  readonly #sampleMs: number;
  #started = false;

  constructor(params: ControllerParams<K>) {
    const workers = params.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers: must be a positive integer, got ${workers}`);
    this.name = params.name;
    this.needLeaderElection = params.needLeaderElection ?? true;
    this.#reconciler = params.reconciler;
    this.#workers = workers;
    this.#clock = params.clock;
    this.#log = params.log.child({ controller: params.name });
    this.#metrics = params.metrics ?? noopControllerMetrics;
    this.#sampleMs = params.unfinishedSampleMs ?? 500;
    this.#queue = new WorkQueue<K>({
      clock: params.clock,
      ...(params.rateLimiter ? { rateLimiter: params.rateLimiter } : {}),
      metrics: (params.queueMetrics ?? noopQueueMetricsProvider).forQueue({ name: params.name, controller: params.name }),
    });
  }

  enqueue(key: K): void {
    this.#queue.add(key);
  }

  /**
   * controller-runtime's builder `Watches(source, handler, WithPredicates(...))`: every
   * event of `source` that passes all `predicates` is mapped to keys, which are queued.
   * Declared beside the controller, so what wakes it is read in one place.
   */
  watch<E>(params: { source: EventSource<E>; predicates?: readonly ((event: E) => boolean)[]; map: (event: E) => Iterable<K> }): this {
    const predicates = params.predicates ?? [];
    params.source.onEvent((event) => {
      if (!predicates.every((p) => p(event))) return;
      for (const key of params.map(event)) this.#queue.add(key);
    });
    return this;
  }

  enqueueAfter(key: K, ms: number): void {
    this.#queue.addAfter(key, ms);
  }

  /** A dependency is back (NATS reconnected): every key in a failure's backoff is tried now (WorkQueue.retryFailedNow). */
  retryFailedNow(): number {
    return this.#queue.retryFailedNow();
  }

  /** Exposed for tests and health: keys waiting for a worker. */
  get queueLength(): number {
    return this.#queue.len();
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name}: start called twice`);
    this.#started = true;
    this.#metrics.maxWorkers({ controller: this.name, count: this.#workers });
    this.#log.info({ workers: this.#workers }, "starting workers");
    const workers = Array.from({ length: this.#workers }, () => this.#work(signal));
    const sampler = this.#sampleUnfinished(signal);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // No new keys; in-flight reconciles saw the same signal abort and are awaited.
    this.#queue.shutDown();
    await Promise.all([...workers, sampler]);
    this.#log.info("all workers finished");
  }

  async #work(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.#queue.get(signal);
      if (key === undefined) return;
      await this.#reconcileHandler(key, signal);
    }
  }

  /** controller-runtime's reconcileHandler: the result decides forget / backoff / requeue. */
  async #reconcileHandler(key: K, signal: AbortSignal): Promise<void> {
    const controller = this.name;
    this.#metrics.activeWorkers({ controller, delta: 1 });
    const started = this.#clock.now().getTime();
    let result: ReconcileResult;
    try {
      const outcome: Result = await this.#reconciler.reconcile(key, signal);
      const after = outcome?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        this.#queue.forget(key);
        this.#queue.addAfter(key, after);
        result = "requeue_after";
      } else {
        this.#queue.forget(key);
        result = "success";
      }
    } catch (err) {
      result = "error";
      const terminal = isTerminal(err);
      this.#metrics.reconcileError({ controller, terminal });
      if (terminal) {
        this.#queue.forget(key);
        this.#log.error({ key, err, terminal }, "reconciler error, not retried");
      } else {
        this.#queue.addRateLimited(key);
        this.#log.error({ key, err, retries: this.#queue.numRequeues(key) }, "reconciler error, retried with backoff");
      }
    } finally {
      this.#queue.done(key);
      this.#metrics.activeWorkers({ controller, delta: -1 });
    }
    this.#metrics.reconciled({ controller, result, seconds: (this.#clock.now().getTime() - started) / 1000 });
  }

  async #sampleUnfinished(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(this.#sampleMs, signal);
      } catch {
        return;
      }
      this.#queue.reportUnfinished();
    }
  }
}
