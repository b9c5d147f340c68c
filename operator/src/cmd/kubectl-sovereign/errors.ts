/** Exit statuses, as documented in `kubectl sovereign --help` (kubectl's own: 0, 1, 2). */
export const ExitStatus = {
  Ok: 0,
  /** Something failed that is not the command line's fault: not found, unreachable, refused. */
  Failure: 1,
  /** The command line or the input documents are wrong; nothing was decided. */
  InvalidInput: 2,
} as const;
export type ExitStatus = (typeof ExitStatus)[keyof typeof ExitStatus];

/** The command line is wrong (exit status 2, with usage). */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly retryable = false;
}

/** Why a command failed at run time; each kind gets its own first words on stderr. */
export const FailureKind = {
  NotFound: "NotFound",
  /** The control plane or the host could not be reached. */
  Unreachable: "Unreachable",
  /** The server answered with a refusal (permission, precondition, unimplemented). */
  Refused: "Refused",
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/**
 * A failure the user can act on (exit status 1): the message says what failed, where,
 * and what to check, so it is printed without a stack trace.
 */
export class CommandError extends Error {
  override readonly name = "CommandError";
  readonly kind: FailureKind;
  readonly retryable: boolean;
  constructor(kind: FailureKind, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryable = options.retryable ?? kind === FailureKind.Unreachable;
  }

  static notFound(message: string): CommandError {
    return new CommandError(FailureKind.NotFound, message);
  }
}
