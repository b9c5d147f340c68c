/**
 * Errors of the host API, typed so callers branch on `instanceof` and `retryable`, never
 * on HTTP codes scattered through the code base.
 */
export class KubeError extends Error {
  override readonly name: string = "KubeError";
  readonly retryable: boolean;
  /** HTTP status the API server answered, 0 when it was not reached. */
  readonly status: number;
  constructor(message: string, options: { status: number; retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

/** 404: the object does not exist. Terminal for the request that needed it. */
export class NotFoundError extends KubeError {
  override readonly name = "NotFoundError";
  constructor(what: string, cause?: unknown) {
    super(`${what} not found`, { status: 404, retryable: false, cause });
  }
}

/** 409: someone else changed or created the object first (resourceVersion precondition). Re-read and retry. */
export class ConflictError extends KubeError {
  override readonly name = "ConflictError";
  constructor(what: string, cause?: unknown) {
    super(`${what} was changed concurrently`, { status: 409, retryable: true, cause });
  }
}

/** Maps a client-node error (which carries `code`) to ours. */
export function toKubeError(err: unknown, what: string): KubeError {
  const status = typeof (err as { code?: unknown })?.code === "number" ? (err as { code: number }).code : 0;
  if (status === 404) return new NotFoundError(what, err);
  if (status === 409) return new ConflictError(what, err);
  // 0 (unreachable), 429 and 5xx may pass; 4xx other than those will not.
  const retryable = status === 0 || status === 429 || status >= 500;
  const detail = (err as { body?: unknown })?.body;
  const reason = typeof detail === "string" ? detail.slice(0, 300) : (err as Error)?.message ?? String(err);
  return new KubeError(`${what}: API server answered ${status || "nothing"}: ${reason}`, { status, retryable, cause: err });
}
