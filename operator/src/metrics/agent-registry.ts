import { counter, gauge, histogram } from "./collectors.ts";
import { METRICS } from "./definitions.ts";
import { RuntimeRegistry, type RegistryOptions } from "./runtime-registry.ts";
import type { AgentIntentResult, AgentMetrics } from "./types.ts";

const RESULTS: readonly AgentIntentResult[] = ["applied", "deleted", "error", "invalid"];

/**
 * A member agent's metrics: controller-runtime's and the sovereign_agent_* ones, and
 * none of the control plane's, so a dashboard summing sovereign_* over jobs never counts
 * an agent's idle zeros as placements.
 */
export class AgentMetricsRegistry extends RuntimeRegistry implements AgentMetrics {
  readonly #applied = counter(this.registry, METRICS.agentIntentsApplied);
  readonly #applyDuration = histogram(this.registry, METRICS.agentIntentApplyDuration);
  readonly #deployments = gauge(this.registry, METRICS.agentDeployments);
  readonly #heartbeats = counter(this.registry, METRICS.agentHeartbeats);
  readonly #guardRejections = counter(this.registry, METRICS.agentGuardRejections);

  constructor(options: RegistryOptions = {}) {
    super(options);
    for (const result of RESULTS) this.#applied.inc({ result }, 0);
    this.deployments({ ready: 0, progressing: 0 });
  }

  intentApplied({ result, seconds }: { result: AgentIntentResult; seconds: number }): void {
    this.#applied.inc({ result });
    this.#applyDuration.observe(seconds);
  }

  deployments({ ready, progressing }: { ready: number; progressing: number }): void {
    this.#deployments.set({ state: "ready" }, ready);
    this.#deployments.set({ state: "progressing" }, progressing);
  }

  heartbeatPublished(): void {
    this.#heartbeats.inc();
  }

  guardRejection(): void {
    this.#guardRejections.inc();
  }
}
