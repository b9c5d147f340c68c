/** Thrown when a condition did not hold before its deadline. Retrying is the caller's call. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
  constructor(what: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`, options);
  }
}

export interface WaitForOptions {
  /** What is awaited, for the error message ("pod fr/web Running"). */
  what: string;
  timeoutMs: number;
  /** Poll interval; the first check runs at once. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Polls `check` until it returns a value other than undefined/false, or the deadline
 * passes. This is how tests and bring-up synchronise: on a condition, never on a bare
 * sleep. A check that throws is treated as "not yet"; the last error is the cause.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions,
): Promise<T> {
  const interval = options.intervalMs ?? 200;
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new DeadlineExceededError(options.what, options.timeoutMs, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
}
