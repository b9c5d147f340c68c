/**
 * The aggregated API `query.sovereignty.eu/v1alpha1` (APIService v1alpha1.query.sovereignty.eu):
 * Explain, Audit and Simulate through the host's API server, with the caller's identity
 * and RBAC, served by the control plane from the gRPC servers' own handlers.
 */
export * from "./discovery.ts";
export * from "./status.ts";
export * from "./server.ts";
