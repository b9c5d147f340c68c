import { KubeError, toKubeError } from "./errors.ts";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Longest wait between attempts, whatever the server asks. */
  maxDelayMs: number;
  /** Injected so tests need not wait. */
  delay: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  maxDelayMs: 5_000,
  delay: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Calls `call` again when the API server answers 429 with a Retry-After, as client-go
 * does. kube-apiserver answers 429 "storage is (re)initializing" for a resource whose
 * watch cache is still starting (right after a CRD is established, or after a restart),
 * so a single request may fail where the next second succeeds. Bounded: after
 * `attempts` the last error goes to the caller, still marked retryable.
 */
export async function withRetryAfter<T>(opts: { call: () => Promise<T>; policy?: RetryPolicy }): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await opts.call();
    } catch (err) {
      const wait = retryAfterMs(err);
      if (wait === undefined || attempt >= policy.attempts) throw err;
      await policy.delay(Math.min(wait, policy.maxDelayMs));
    }
  }
}

/** The wait a 429 asks for (details.retryAfterSeconds, default 1 s); undefined for other errors. */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof KubeError) || err.status !== 429) return undefined;
  const seconds = /"retryAfterSeconds\\?":\s*(\d+)/.exec(err.message)?.[1];
  return (seconds === undefined ? 1 : Number(seconds)) * 1000;
}

/**
 * One API call as every client here makes it: the client's error mapped to ours (naming
 * `what`), and a 429 with Retry-After retried under `policy`.
 */
export function kubeCall<T>(what: string, call: () => Promise<T>, policy?: RetryPolicy): Promise<T> {
  return withRetryAfter({
    call: async () => {
      try {
        return await call();
      } catch (err) {
        throw toKubeError(err, what);
      }
    },
    policy,
  });
}
