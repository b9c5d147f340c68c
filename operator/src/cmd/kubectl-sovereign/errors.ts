/** Exit statuses, as documented in `kubectl sovereign --help`. */
export const ExitStatus = {
  Ok: 0,
  /** Something failed that is not the input's fault. */
  Failure: 1,
  /** The command line or the input documents are wrong; nothing was decided. */
  InvalidInput: 2,
} as const;
export type ExitStatus = (typeof ExitStatus)[keyof typeof ExitStatus];

/** The input documents are wrong (exit status 2). */
export { InputError } from "../../scheduler/inputs.ts";

/** The command line is wrong (exit status 2, with usage). */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly retryable = false;
}
