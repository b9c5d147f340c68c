import type { IndexedCache, IndexFunc } from "./types.ts";

/**
 * client-go's thread-safe store with Indexers, in one process: objects by key plus
 * secondary indexes kept up to date on every write, so "the workload with this uid" or
 * "the workloads placed on this cluster" is a map lookup, not a scan of the store.
 */
export class IndexedStore<T> implements IndexedCache<T> {
  readonly #objects = new Map<string, T>();
  /** index name → its function, and value → keys of the objects carrying it. */
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  #synced = false;

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  list(): readonly T[] {
    return [...this.#objects.values()];
  }

  keys(): IterableIterator<string> {
    return this.#objects.keys();
  }

  values(): IterableIterator<T> {
    return this.#objects.values();
  }

  get size(): number {
    return this.#objects.size;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  markSynced(): void {
    this.#synced = true;
  }

  /** Stores `obj` under `key`; returns what was stored before. */
  set(key: string, obj: T): T | undefined {
    const previous = this.#objects.get(key);
    this.#objects.set(key, obj);
    for (const name of this.#indexers.keys()) this.#index(name, key, previous, obj);
    return previous;
  }

  /** Removes `key`; returns what was stored. */
  delete(key: string): T | undefined {
    const previous = this.#objects.get(key);
    if (previous === undefined) return undefined;
    this.#objects.delete(key);
    for (const name of this.#indexers.keys()) this.#index(name, key, previous, undefined);
    return previous;
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`index ${name} added twice`);
    this.#indexers.set(name, fn);
    this.#indexes.set(name, new Map());
    for (const [key, obj] of this.#objects) this.#index(name, key, undefined, obj);
  }

  byIndex(name: string, value: string): readonly T[] {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`no index ${name}`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const obj = this.#objects.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  #index(name: string, key: string, previous: T | undefined, next: T | undefined): void {
    const fn = this.#indexers.get(name)!;
    const index = this.#indexes.get(name)!;
    const after = new Set(next === undefined ? [] : fn(next));
    for (const v of previous === undefined ? [] : fn(previous)) {
      if (after.has(v)) continue;
      const keys = index.get(v);
      keys?.delete(key);
      if (keys?.size === 0) index.delete(v);
    }
    for (const v of after) {
      const keys = index.get(v) ?? new Set<string>();
      keys.add(key);
      index.set(v, keys);
    }
  }
}
