/**
 * Errors of the federation protocol. Each says whether retrying can help (`retryable`),
 * so callers (reconcilers, the agent loops) decide by type, never by message text.
 */

/** Base class: `retryable` tells a caller whether the same call may succeed later. */
export class FederationError extends Error {
  override readonly name: string = "FederationError";
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/**
 * A name that would become part of a NATS subject or JetStream name is not allowed
 * (wildcards, dots, reserved words...). Terminal: the input must change.
 */
export class InvalidNameError extends FederationError {
  override readonly name = "InvalidNameError";
  readonly field: string;
  readonly value: string;
  constructor(field: string, value: string, why: string) {
    super(`${field}: ${JSON.stringify(value)} ${why}`, { retryable: false });
    this.field = field;
    this.value = value;
  }
}

/** A payload could not be decoded as the message its subject promises. Terminal for that message. */
export class DecodeError extends FederationError {
  override readonly name = "DecodeError";
  readonly subject: string;
  constructor(subject: string, messageType: string, cause: unknown) {
    super(`message on ${subject} is not a valid ${messageType}`, { retryable: false, cause });
    this.subject = subject;
  }
}

/** A message is well-formed but contradicts where it came from (e.g. an intent for `de` on an `fr` subject). */
export class ContractViolationError extends FederationError {
  override readonly name = "ContractViolationError";
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * The NATS server refused the operation for this identity. Terminal: permissions do
 * not change by retrying; it is either a bug or an attack.
 */
export class PermissionDeniedError extends FederationError {
  override readonly name = "PermissionDeniedError";
  readonly operation: string;
  readonly subject: string;
  constructor(operation: string, subject: string, cause: unknown) {
    super(`NATS refused ${operation} on ${JSON.stringify(subject)} for this identity`, { retryable: false, cause });
    this.operation = operation;
    this.subject = subject;
  }
}

/** Publishing was not acknowledged (timeout, no stream, connection lost). Retry with the same msg id. */
export class PublishError extends FederationError {
  override readonly name = "PublishError";
  readonly subject: string;
  constructor(subject: string, cause: unknown) {
    super(`publish to ${subject} was not acknowledged by JetStream`, { retryable: true, cause });
    this.subject = subject;
  }
}

/** The stream replica option asks for more copies than the NATS deployment can keep: a configuration error, never retried. */
export class StreamReplicasError extends FederationError {
  override readonly name = "StreamReplicasError";

  constructor(params: { stream: string; replicas: number; why: string; cause?: unknown }) {
    super(
      `stream ${params.stream} at ${params.replicas} replicas: ${params.why}. The replica count (--nats-stream-replicas) ` +
        "must not exceed the NATS deployment's servers: 1 on a single server, 3 on a JetStream cluster of three",
      { retryable: false, ...(params.cause !== undefined ? { cause: params.cause } : {}) },
    );
  }
}
