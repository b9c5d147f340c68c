/**
 * The member's attestations: per workload, what runs here (its Deployment and how many of
 * its pods are ready), signed with the member's own key (its NATS nkey, ed25519) over the
 * ledger's canonical bytes, and published on the member's own attestation subject, which
 * the control plane appends to the ledger of the member's country. Sent at every change
 * and at least once a period, so that the ledger shows a silence (the agent down, the
 * member cut off) as a gap in time between a workload's attestations.
 *
 * `seq` grows strictly per member, across restarts too without storing anything: it is
 * the time in milliseconds, or the last one plus one when the clock has not moved on.
 * A clock set back by more than the agent was down would repeat seqs; the verifier then
 * reports a replay, which is what an auditor should be told about such a member.
 */
import type { Logger } from "pino";
import type { WorkloadRef } from "../gen/sovereign/v1/residency.ts";
import type { Deployment, Pod } from "../kube/index.ts";
import { signAttestation } from "../ledger/index.ts";
import type { Attestation, AttestationBody, SigningKey } from "../ledger/index.ts";
import type { Clock, Runnable } from "../runtime/index.ts";

/** Where attestations go: the member's key and the publish of a signed body. */
export interface AttestationSink {
  key: SigningKey;
  publish(body: AttestationBody): Promise<void>;
}

export const DEFAULT_ATTESTATION_INTERVAL_MS = 5 * 60_000;

interface Tracked {
  workload: { namespace: string; name: string; uid: string };
  deployment: string;
  pods: number;
  /** The state last attested (deployment and pods), and when. */
  sent: string | undefined;
  sentAt: number;
  /** Nothing runs any more: one last attestation of 0 pods, then forgotten. */
  gone: boolean;
}

function ready(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** One attestation per change of a workload (at once) and one per workload every interval. */
export class Attestations implements Runnable {
  readonly name = "attestations";
  readonly needLeaderElection = false;
  readonly #cluster: string;
  readonly #sink: Promise<AttestationSink>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #tracked = new Map<string, Tracked>();
  #seq = 0;
  #wake: (() => void) | undefined;

  constructor(params: { cluster: string; sink: Promise<AttestationSink>; clock: Clock; log: Logger; intervalMs?: number }) {
    this.#cluster = params.cluster;
    this.#sink = params.sink;
    this.#clock = params.clock;
    this.#log = params.log;
    this.#intervalMs = params.intervalMs ?? DEFAULT_ATTESTATION_INTERVAL_MS;
  }

  /** What runs for a workload after a reconcile: attested at once when it changed. Never blocks the reconcile. */
  observe(p: { uid: string; ref: WorkloadRef; deployment: Deployment | undefined; pods: readonly Pod[] }): void {
    const pods = p.pods.filter(ready).length;
    const deployment = p.deployment ? `${p.deployment.metadata.namespace ?? ""}/${p.deployment.metadata.name}` : "";
    const before = this.#tracked.get(p.uid);
    if (!p.deployment && pods === 0) {
      // Nothing here: worth one attestation only if something was attested before.
      if (before && !before.gone) {
        before.gone = true;
        before.pods = 0;
        before.deployment = deployment;
        this.#wake?.();
      }
      return;
    }
    const t: Tracked = before ?? { workload: { namespace: p.ref.namespace, name: p.ref.name, uid: p.uid }, deployment, pods, sent: undefined, sentAt: 0, gone: false };
    t.deployment = deployment;
    t.pods = pods;
    t.gone = false;
    this.#tracked.set(p.uid, t);
    if (t.sent !== this.#stateOf(t)) this.#wake?.();
  }

  /** Workloads attested (for tests: a workload that went leaves nothing behind). */
  get tracked(): number {
    return this.#tracked.size;
  }

  #stateOf(t: Tracked): string {
    return JSON.stringify([t.deployment, t.pods]);
  }

  #nextSeq(): number {
    this.#seq = Math.max(this.#clock.now().getTime(), this.#seq + 1);
    return this.#seq;
  }

  async start(signal: AbortSignal): Promise<void> {
    const sink = await Promise.race([this.#sink, new Promise<undefined>((resolve) => signal.addEventListener("abort", () => resolve(undefined), { once: true }))]);
    if (!sink) return;
    this.#log.info({ key: sink.key.keyId, intervalMs: this.#intervalMs }, "attesting what runs on this member");
    while (!signal.aborted) {
      // A change observed from here on (even while this pass publishes) cuts the wait short.
      const tick = new AbortController();
      const wake = () => tick.abort();
      signal.addEventListener("abort", wake, { once: true });
      this.#wake = wake;
      let next = this.#intervalMs;
      for (const [uid, t] of [...this.#tracked]) {
        if (signal.aborted) break;
        const now = this.#clock.now().getTime();
        const due = t.sent !== this.#stateOf(t) || now - t.sentAt >= this.#intervalMs;
        if (!due) {
          next = Math.min(next, t.sentAt + this.#intervalMs - now);
          continue;
        }
        const state = this.#stateOf(t);
        const attestation: Attestation = {
          member: this.#cluster, workload: { ...t.workload }, deployment: t.deployment, pods: t.pods,
          seq: this.#nextSeq(), observedAt: new Date(now).toISOString(),
        };
        try {
          await sink.publish(signAttestation(attestation, sink.key));
          t.sent = state;
          t.sentAt = now;
          // Unless it came back meanwhile (observe clears gone).
          if (t.gone) this.#tracked.delete(uid);
        } catch (err) {
          // Tried again on the next pass; until then the ledger simply has no newer statement.
          this.#log.warn({ err, uid, seq: attestation.seq }, "could not publish an attestation");
          next = Math.min(next, 1000);
        }
      }
      if (!tick.signal.aborted) await this.#clock.sleep(Math.max(next, 10), tick.signal).catch(() => undefined);
      signal.removeEventListener("abort", wake);
    }
  }
}
