/**
 * controller-runtime's contracts, in TypeScript. A reconciler receives a key, never the
 * event (level-based); it returns when to look again, or throws (retried with backoff
 * unless isTerminal). Everything long-running is a Runnable.
 */

/** What a reconcile asks for next. `{}` means done until something changes. */
export interface Result {
  /** Reconcile this key again after this long, even if nothing changes (not an error). */
  requeueAfterMs?: number;
}

export interface Reconciler<K extends string = string> {
  /** Reads state from caches, computes the desired state, applies it. Idempotent. */
  reconcile(key: K, signal: AbortSignal): Promise<Result>;
}

export interface Runnable {
  /** For logs, metrics and health. */
  readonly name: string;
  /** True when only the elected leader may run it (writers). Default false. */
  readonly needLeaderElection?: boolean;
  /** Runs until `signal` aborts, then returns after cleaning up; throwing stops the manager. */
  start(signal: AbortSignal): Promise<void>;
}

/** A read-only, in-memory view of one kind, kept current by an informer. */
export interface Cache<T> {
  /** Keys are "name" for cluster-scoped objects, "namespace/name" for namespaced ones. */
  get(key: string): T | undefined;
  list(): readonly T[];
  hasSynced(): boolean;
}

/** Called with the object after a change (or its last known state after a delete). */
export type ChangeHandler<T> = (obj: T, previous: T | undefined) => void;

/** An informer: a Cache plus change notifications; a Runnable that lists, watches and recovers. */
export interface Informer<T> extends Cache<T>, Runnable {
  onChange(handler: ChangeHandler<T>): void;
  /** Resolves once the first list has been stored (or rejects when `signal` aborts). */
  waitForSync(signal: AbortSignal): Promise<void>;
}
