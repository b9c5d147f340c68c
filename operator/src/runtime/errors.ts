/**
 * The one error contract every layer fits (controller-runtime's, with kopf's naming):
 * an error is retried unless it says it is terminal. Every error class of this project
 * carries `retryable` (KubeError, FederationError, RpcError, PolicyNotFoundError,
 * InputError...); `isTerminal` reads it, so callers never branch on message text.
 */

/** Retrying cannot help: the input must change. Still counted as an error. */
export class TerminalError extends Error {
  override readonly name: string = "TerminalError";
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True when `err` (or the first error of its cause chain that says so) is not worth retrying. */
export function isTerminal(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof TerminalError) return true;
    const retryable = (e as { retryable?: unknown }).retryable;
    if (typeof retryable === "boolean") return !retryable;
  }
  return false;
}
