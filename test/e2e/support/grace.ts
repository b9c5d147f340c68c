/**
 * When does a breach the auditor sees count as a violation? Between steps an admin changes
 * facts on purpose (a certification lapses, a policy tightens, a NoExecute taint appears,
 * a MemberCluster is deleted): a replica placed before such a change may breach the new
 * facts for as long as the control plane takes to move it. So:
 * - a replica created after the last change of everything it is judged by (its member's
 *   MemberCluster, its workload, its workload's policy) counts at once: it was placed
 *   against facts already known;
 * - any other replica counts once it outlives that change by `graceMs`;
 * - a breach that is only due after `afterMs` (a NoExecute toleration's seconds) counts
 *   once `afterMs + graceMs` have passed since the later of the change and the replica's creation.
 * Changes are seen by polling, as a change of metadata.generation (or of existence).
 */

export const DEFAULT_GRACE_MS = 60_000;

/** The keys a replica is judged by. */
export function factKeys(params: { member: string; workloadUid: string; policy?: string | undefined }): string[] {
  return [`cluster/${params.member}`, `workload/${params.workloadUid}`, ...(params.policy ? [`policy/${params.policy}`] : [])];
}

export class FactChanges {
  readonly #generation = new Map<string, number>();
  readonly #changedAt = new Map<string, number>();
  #observed = false;

  /**
   * Records one poll's generations (keys as factKeys makes them) seen at `at`. The first
   * poll only sets the baseline: what changed before the audit began is not a change.
   */
  observe(generations: ReadonlyMap<string, number>, at: number): void {
    if (this.#observed) {
      for (const [key, generation] of generations) {
        const before = this.#generation.get(key);
        if (before !== generation) this.#changedAt.set(key, at); // changed, or (re)created
      }
      for (const key of this.#generation.keys()) if (!generations.has(key)) this.#changedAt.set(key, at); // deleted
    }
    this.#generation.clear();
    for (const [k, g] of generations) this.#generation.set(k, g);
    this.#observed = true;
  }

  /** The last change of any of `keys`, or undefined if none changed since the audit began. */
  lastChange(keys: readonly string[]): number | undefined {
    let last: number | undefined;
    for (const k of keys) {
      const t = this.#changedAt.get(k);
      if (t !== undefined && (last === undefined || t > last)) last = t;
    }
    return last;
  }
}

/** Whether a breach of a replica created at `createdAt`, seen at `at`, is a violation now. */
export function breachCounts(params: { createdAt: number; at: number; lastChange: number | undefined; afterMs: number; graceMs: number }): boolean {
  const { createdAt, at, lastChange, afterMs, graceMs } = params;
  const placedAfterChange = lastChange === undefined || createdAt > lastChange;
  if (placedAfterChange && afterMs === 0) return true;
  const since = Math.max(createdAt, lastChange ?? -Infinity);
  // A timed breach is ended by the control plane's timer, which gets the same grace as a fact change.
  return at - since >= afterMs + graceMs;
}
