/**
 * Cache keys ("namespace/name") by workload uid, so a reconcile finds a workload's
 * Deployment and pods without scanning the caches (client-go's indexers). Kept by the
 * informers' change handlers; an entry goes with the last object of its uid.
 */
export class UidIndex {
  readonly #byUid = new Map<string, Set<string>>();
  readonly #uidOf = new Map<string, string>();

  /** The object at `key` now carries `uid` (undefined: it is gone, or carries none). Returns the uid it carried before. */
  set(key: string, uid: string | undefined): string | undefined {
    const before = this.#uidOf.get(key);
    if (before === uid) return before;
    if (before !== undefined) {
      const keys = this.#byUid.get(before);
      keys?.delete(key);
      if (keys?.size === 0) this.#byUid.delete(before);
      this.#uidOf.delete(key);
    }
    if (uid !== undefined) {
      this.#uidOf.set(key, uid);
      const keys = this.#byUid.get(uid) ?? new Set<string>();
      keys.add(key);
      this.#byUid.set(uid, keys);
    }
    return before;
  }

  keys(uid: string): string[] {
    return [...(this.#byUid.get(uid) ?? [])];
  }

  /** Uids with at least one object. */
  get size(): number {
    return this.#byUid.size;
  }
}
