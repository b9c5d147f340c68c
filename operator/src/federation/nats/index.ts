/**
 * The NATS side of the federation protocol: subjects, stream and consumer definitions
 * and permissions (protocol.ts), codecs, and the JetStream client. Import from here.
 */
export * from "./protocol.ts";
export * from "./codecs.ts";
export * from "./jetstream.ts";
export * from "./agent.ts";
export * from "./connection.ts";
export * from "./control-plane.ts";
export * from "./audit-records.ts";
export * from "./ledger.ts";
export * from "./audit-index.ts";
export * from "./attestations.ts";
