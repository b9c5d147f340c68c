/**
 * Residency-guard refusals as members report them: the agent copies its ReplicaSet's
 * FailedCreate message into the workload's status message, and repeats it in every
 * status it sends while the refusal lasts. A refusal is counted once, when it appears
 * (or changes); the same one reported again is not a new rejection. Pure bookkeeping.
 */

/**
 * Every guard message starts with "residency guard:" and the API server's denial names the
 * ValidatingAdmissionPolicy, sovereign-residency-guard (charts/member-agent/files/residency-guard.yaml).
 */
const GUARD_MESSAGE = /residency[ -]guard/i;

export function isGuardRefusal(message: string): boolean {
  return GUARD_MESSAGE.test(message);
}

/**
 * The refusal without the pod name: a ReplicaSet retrying names a new pod each time
 * (`pods "web-7d9f-x2x4k" is forbidden: ...`) but it is the same refusal.
 */
export function refusalKey(message: string): string {
  return message.replace(/pods? "[^"]*"/g, "pod").trim();
}

export class GuardRefusals {
  /** uid → cluster → the refusal last reported. */
  readonly #current = new Map<string, Map<string, string>>();

  /**
   * One status message from `cluster` about workload `uid`. True when it reports a refusal
   * not reported before (not counted when `replayed`: a report sent before this control
   * plane started listening is remembered, so its repetitions are not counted either).
   */
  observe({ uid, cluster, message, replayed = false }: { uid: string; cluster: string; message: string; replayed?: boolean }): boolean {
    const byCluster = this.#current.get(uid) ?? new Map<string, string>();
    if (!isGuardRefusal(message)) {
      byCluster.delete(cluster);
      if (byCluster.size === 0) this.#current.delete(uid);
      return false;
    }
    const key = refusalKey(message);
    const seen = byCluster.get(cluster) === key;
    byCluster.set(cluster, key);
    this.#current.set(uid, byCluster);
    return !seen && !replayed;
  }

  /** The workload is gone: nothing of it is kept. */
  forget(uid: string): void {
    this.#current.delete(uid);
  }

  /** The member is gone: nothing it reported is kept. */
  forgetCluster(cluster: string): void {
    for (const [uid, byCluster] of this.#current) {
      byCluster.delete(cluster);
      if (byCluster.size === 0) this.#current.delete(uid);
    }
  }
}
