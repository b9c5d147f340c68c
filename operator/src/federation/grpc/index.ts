/** The control plane's gRPC API: server, client, Join with bootstrap tokens, audit queries. */
export * from "./errors.ts";
export * from "./peer.ts";
export * from "./bootstrap-tokens.ts";
export * from "./join.ts";
export * from "./audit.ts";
export * from "./decisions.ts";
export * from "./server.ts";
export * from "./client.ts";
