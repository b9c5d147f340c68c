/**
 * The federation protocol's public surface: its errors, the narrow interfaces
 * controllers and agents depend on, and the NATS side (nats/). The gRPC side is
 * federation/grpc/index.ts. Import from here; the files behind it may move.
 */
export * from "./errors.ts";
export * from "./interfaces.ts";
export * from "./nats/index.ts";
export * from "./ledger-keys.ts";
