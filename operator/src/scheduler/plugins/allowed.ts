/**
 * The intersection of every non-empty list, or null when no list constrains anything.
 * Intersecting is what makes policy + inline never looser than either: two lists
 * with nothing in common leave an empty set, which allows nothing.
 */
export function intersectAllowed(lists: readonly (readonly string[] | undefined)[]): ReadonlySet<string> | null {
  let allowed: Set<string> | null = null;
  for (const list of lists) {
    if (!list || list.length === 0) continue;
    allowed = allowed ? new Set(list.filter((x) => allowed!.has(x))) : new Set(list);
  }
  return allowed;
}

/** For each of the snapshot's distinct values (a column's names), 1 when allowed. */
export function allowedIndexes(names: readonly string[], allowed: ReadonlySet<string>): Uint8Array {
  return Uint8Array.from(names, (name) => (allowed.has(name) ? 1 : 0));
}
