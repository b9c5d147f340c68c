/**
 * Publish-to-applied latency of intents, per (workload uid, cluster). The control plane
 * never sees the agent's JetStream ack, so "acknowledged" is the first member status
 * showing the intent applied: observedGeneration at least the intent's and the intent's
 * replicas desired. Pure bookkeeping: times are inputs (epoch ms).
 */

export interface PublishedIntent {
  uid: string;
  cluster: string;
  generation: number;
  replicas: number;
  /** When the publish began (epoch ms). */
  at: number;
}

export interface ReportedStatus {
  uid: string;
  cluster: string;
  observedGeneration: number;
  desiredReplicas: number;
  /** When the control plane received the status (epoch ms). */
  at: number;
  /**
   * Received when the report consumer opened (the newest of its subject, sent before):
   * it may settle an intent but says nothing about how long applying it took.
   */
  replayed?: boolean;
}

/** Whether a member status shows an intent applied. A removed Deployment reports generation 0, so a zero intent needs only replicas 0. */
export function showsApplied(intent: { generation: number; replicas: number }, status: { observedGeneration: number; desiredReplicas: number }): boolean {
  if (status.desiredReplicas !== intent.replicas) return false;
  return intent.replicas === 0 || status.observedGeneration >= intent.generation;
}

export class IntentAckTracker {
  /** uid → cluster → the newest intent not yet seen applied. */
  readonly #pending = new Map<string, Map<string, PublishedIntent>>();

  /**
   * An intent was published. `current` is the member's latest status: when it already
   * shows the intent applied (a re-publish after a restart), there is nothing to wait for,
   * and a later unrelated report must not be taken for its ack.
   */
  published(intent: PublishedIntent, current?: { observedGeneration: number; desiredReplicas: number }): void {
    const byCluster = this.#pending.get(intent.uid) ?? new Map<string, PublishedIntent>();
    if (current && showsApplied(intent, current)) byCluster.delete(intent.cluster);
    else byCluster.set(intent.cluster, intent);
    if (byCluster.size > 0) this.#pending.set(intent.uid, byCluster);
    else this.#pending.delete(intent.uid);
  }

  /** A member status arrived: the seconds since its pending intent was published, when it shows that intent applied. */
  reported(status: ReportedStatus): number | undefined {
    const byCluster = this.#pending.get(status.uid);
    const intent = byCluster?.get(status.cluster);
    if (!byCluster || !intent || !showsApplied(intent, status)) return undefined;
    byCluster.delete(status.cluster);
    if (byCluster.size === 0) this.#pending.delete(status.uid);
    if (status.replayed) return undefined;
    return Math.max(0, (status.at - intent.at) / 1000);
  }

  /** The workload is gone: its intents are no longer waited for. */
  forget(uid: string): void {
    this.#pending.delete(uid);
  }

  /** The member is gone: its intents will never be applied. */
  forgetCluster(cluster: string): void {
    for (const [uid, byCluster] of this.#pending) {
      byCluster.delete(cluster);
      if (byCluster.size === 0) this.#pending.delete(uid);
    }
  }

  /** Intents still waiting (for tests and debugging). */
  pending(): number {
    let n = 0;
    for (const m of this.#pending.values()) n += m.size;
    return n;
  }
}
