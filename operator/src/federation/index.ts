/**
 * The federation protocol's public surface: subjects, stream definitions and
 * permissions (protocol.ts), codecs, the JetStream client, and its errors. Import from
 * here; the files behind it may move.
 */
export * from "./errors.ts";
export * from "./protocol.ts";
export * from "./codecs.ts";
export * from "./jetstream.ts";
