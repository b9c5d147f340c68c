import { collectDefaultMetrics, Registry } from "prom-client";
import { counter, gauge, histogram } from "./collectors.ts";
import { METRICS } from "./definitions.ts";
import type { ControllerMetrics, MetricsEndpoint, QueueMetrics, QueueMetricsProvider, ReconcileResult } from "./types.ts";

const RESULTS: readonly ReconcileResult[] = ["success", "error", "requeue", "requeue_after"];

/**
 * prom-client's gauges named like counters, which `promtool check metrics` rejects
 * ("non-counter metrics should not have _total suffix"). Their totals are
 * sum(nodejs_active_handles) and friends, which prom-client exports too.
 */
const LINT_FAILING_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export interface RegistryOptions {
  /** Node's process metrics (CPU, memory, event-loop lag, GC). Default true; tests that build many registries turn them off. */
  processMetrics?: boolean;
}

/**
 * What the control plane and the agent share: one prom-client Registry of their own (never
 * the global one, so two in a process, as in tests, do not collide), the controller and
 * workqueue metrics under controller-runtime's names, and the exposition for /metrics.
 */
export class RuntimeRegistry implements ControllerMetrics, QueueMetricsProvider, MetricsEndpoint {
  protected readonly registry = new Registry();
  readonly #reconcileTotal = counter(this.registry, METRICS.reconcileTotal);
  readonly #reconcileErrors = counter(this.registry, METRICS.reconcileErrors);
  readonly #terminalErrors = counter(this.registry, METRICS.terminalReconcileErrors);
  readonly #reconcileTime = histogram(this.registry, METRICS.reconcileTime);
  readonly #activeWorkers = gauge(this.registry, METRICS.activeWorkers);
  readonly #maxConcurrent = gauge(this.registry, METRICS.maxConcurrentReconciles);
  readonly #depth = gauge(this.registry, METRICS.workqueueDepth);
  readonly #adds = counter(this.registry, METRICS.workqueueAdds);
  readonly #queueDuration = histogram(this.registry, METRICS.workqueueQueueDuration);
  readonly #workDuration = histogram(this.registry, METRICS.workqueueWorkDuration);
  readonly #retries = counter(this.registry, METRICS.workqueueRetries);
  readonly #unfinished = gauge(this.registry, METRICS.workqueueUnfinishedWork);
  readonly #longest = gauge(this.registry, METRICS.workqueueLongestRunningProcessor);

  constructor(options: RegistryOptions = {}) {
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  reconciled({ controller, result, seconds }: { controller: string; result: ReconcileResult; seconds: number }): void {
    this.#reconcileTotal.inc({ controller, result });
    this.#reconcileTime.observe({ controller }, seconds);
  }

  reconcileError({ controller, terminal }: { controller: string; terminal: boolean }): void {
    this.#reconcileErrors.inc({ controller });
    if (terminal) this.#terminalErrors.inc({ controller });
  }

  activeWorkers({ controller, delta }: { controller: string; delta: number }): void {
    this.#activeWorkers.inc({ controller }, delta);
  }

  maxWorkers({ controller, count }: { controller: string; count: number }): void {
    this.#maxConcurrent.set({ controller }, count);
    for (const result of RESULTS) this.#reconcileTotal.inc({ controller, result }, 0);
    this.#reconcileErrors.inc({ controller }, 0);
    this.#terminalErrors.inc({ controller }, 0);
    this.#activeWorkers.inc({ controller }, 0);
  }

  forQueue(labels: { name: string; controller: string }): QueueMetrics {
    const { name, controller } = labels;
    const l = { name, controller };
    // client-go creates every series when the queue is made: a queue that never retried
    // still says 0, which is what a dashboard and `rate()` need. inc(0) rather than set(0)
    // so a second forQueue for the same queue does not wipe its depth.
    this.#depth.inc(l, 0);
    this.#adds.inc(l, 0);
    this.#retries.inc(l, 0);
    this.#unfinished.inc(l, 0);
    this.#longest.inc(l, 0);
    this.#queueDuration.zero(l);
    this.#workDuration.zero(l);
    return {
      depth: (delta) => this.#depth.inc(l, delta),
      added: () => this.#adds.inc(l),
      queued: (seconds) => this.#queueDuration.observe(l, seconds),
      worked: (seconds) => this.#workDuration.observe(l, seconds),
      retried: () => this.#retries.inc(l),
      unfinished: ({ oldestSeconds, totalSeconds }) => {
        this.#longest.set(l, oldestSeconds);
        this.#unfinished.set(l, totalSeconds);
      },
    };
  }
}
