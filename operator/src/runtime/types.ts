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

/**
 * What happened to an object, as controller-runtime's event handlers see it: created,
 * updated, deleted, or announced again by a periodic relist with nothing changed
 * (`previous` is then the object itself).
 */
export type ChangeKind = "create" | "update" | "delete" | "resync";

/** Called with the object after a change (or its last known state after a delete). */
export type ChangeHandler<T> = (obj: T, previous: T | undefined) => void;

/** One change as a watch's predicates and map functions see it. */
export interface WatchEvent<T> {
  kind: ChangeKind;
  object: T;
  /** The object as stored before (create: undefined; delete and resync: the object itself). */
  previous: T | undefined;
}

/** Something controllers can watch: informers, the member reports. */
export interface EventSource<E> {
  onEvent(handler: (event: E) => void): void;
}

/** A secondary index over a cache, as client-go's Indexers: an object's index values (none: not indexed). */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** A cache that can also answer "which objects have this index value" without a scan. */
export interface IndexedCache<T> extends Cache<T> {
  /** Registers an index; call before start (objects already stored are indexed at once). */
  addIndex(name: string, fn: IndexFunc<T>): void;
  /** Objects whose `name` index includes `value`. */
  byIndex(name: string, value: string): readonly T[];
}

/** An informer a controller can watch with predicates and look up through indexes. */
export interface WatchableCache<T> extends IndexedCache<T>, EventSource<WatchEvent<T>> {}

/** An informer: a Cache plus change notifications; a Runnable that lists, watches and recovers. */
export interface Informer<T> extends Cache<T>, Runnable {
  onChange(handler: ChangeHandler<T>): void;
  /** Resolves once the first list has been stored (or rejects when `signal` aborts). */
  waitForSync(signal: AbortSignal): Promise<void>;
}
