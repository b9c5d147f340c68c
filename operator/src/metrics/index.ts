/** Metrics: interfaces everyone may import; prom-client stays inside this folder. */
export * from "./types.ts";
export { METRICS, RECONCILE_TIME_BUCKETS, WORKQUEUE_BUCKETS, type MetricDefinition, type MetricKey, type MetricType } from "./definitions.ts";
export { RuntimeRegistry, type RegistryOptions } from "./runtime-registry.ts";
export { HEARTBEAT_DROP_REASONS, MetricsRegistry, STATUS_REPORT_DROP_REASONS, UNKNOWN_REASON, type MetricsRegistryOptions } from "./registry.ts";
export { AgentMetricsRegistry } from "./agent-registry.ts";
