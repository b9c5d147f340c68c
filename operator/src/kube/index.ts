/** The only door to the Kubernetes API (an eslint rule keeps @kubernetes/client-node here). */
export * from "./config.ts";
export * from "./errors.ts";
export * from "./host.ts";
export * from "./retry.ts";
export * from "./lease.ts";
export * from "./member.ts";
export * from "./informer.ts";
export * from "./client-config.ts";
