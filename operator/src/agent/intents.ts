/**
 * The agent's desired state: the newest intent of every workload, as a cache the
 * Manager syncs before the controller starts. Filled by a full read of the member's
 * intents stream (on start and after every reconnect) and kept current by the durable
 * consumer. A delivery is only recorded and announced; it is acknowledged once the
 * reconcile of its workload has applied it (`settle`). A disconnection clears nothing:
 * only a complete read of the stream can say a workload has no intent any more.
 */
import type { Logger } from "pino";
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { ResidencyFacts } from "../gen/sovereign/v1/residency.ts";
import type { ConnectionState, IntentDelivery, IntentSource, ReportPublisher } from "../federation/index.ts";
import type { Clock, Runnable } from "../runtime/index.ts";
import { backoffMs } from "./credentials.ts";

/** What the agent reaches the control plane through, once it has joined and connected. */
export interface FederationLink {
  intents: IntentSource;
  reports: ReportPublisher;
  connection: ConnectionState;
  /** The host's facts for this member from Join, if it answered with them. */
  residency?: ResidencyFacts;
}

const decidedAtOf = (i: PlacementIntent) => i.decidedAt?.getTime() ?? 0;

/** A zero intent is kept without its pod template: it only has to say "nothing here", for as long as the stream holds it. */
function compact(intent: PlacementIntent): PlacementIntent {
  return intent.replicas > 0 ? intent : { ...intent, podTemplate: undefined };
}

export class IntentCache implements Runnable {
  readonly name = "intents";
  readonly needLeaderElection = false;
  readonly #link: Promise<FederationLink>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #intents = new Map<string, PlacementIntent>();
  /** "namespace/name" → the uid whose newest intent names it (a name can pass from a deleted workload to a new one). */
  readonly #byName = new Map<string, string>();
  /** Deliveries not acknowledged yet, per uid. */
  readonly #pending = new Map<string, IntentDelivery[]>();
  /** Uids recorded from the consumer while a full read runs: the read may predate them. */
  #touched: Set<string> | undefined;
  readonly #handlers: ((uid: string) => void)[] = [];
  readonly #factHandlers: ((facts: ResidencyFacts) => void)[] = [];
  readonly #syncWaiters: (() => void)[] = [];
  #synced = false;
  #resyncs = 0;
  #resyncWanted = false;
  #resyncRunning: Promise<void> | undefined;

  constructor(params: { link: Promise<FederationLink>; clock: Clock; log: Logger }) {
    this.#link = params.link;
    this.#clock = params.clock;
    this.#log = params.log.child({ cache: "intents" });
  }

  /** Called with a uid whose intent changed (or arrived again, or went). */
  onChange(handler: (uid: string) => void): void {
    this.#handlers.push(handler);
  }

  /** Called with the member's residency facts each intent carries. */
  onFacts(handler: (facts: ResidencyFacts) => void): void {
    this.#factHandlers.push(handler);
  }

  get(uid: string): PlacementIntent | undefined {
    return this.#intents.get(uid);
  }

  /** The uid whose intent names this Deployment, if any. */
  uidAt(namespace: string, name: string): string | undefined {
    return this.#byName.get(`${namespace}/${name}`);
  }

  uidsIn(namespace: string): string[] {
    return [...this.#intents.values()].filter((i) => i.workload?.namespace === namespace).map((i) => i.workload!.uid);
  }

  /** Whether a delivery of this workload waits for its acknowledgement (the host waits for a status then). */
  hasPending(uid: string): boolean {
    return this.#pending.has(uid);
  }

  get size(): number {
    return this.#intents.size;
  }

  /** Completed full reads of the stream. */
  get resyncs(): number {
    return this.#resyncs;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /**
   * The reconcile of `uid` is done with `reconciled` (applied it, or reported why it
   * cannot): acknowledges the deliveries it covers. A newer one that arrived meanwhile
   * stays pending; its workload is queued again.
   */
  async settle(uid: string, reconciled: PlacementIntent | undefined): Promise<void> {
    const pending = this.#pending.get(uid);
    if (!pending) return;
    const upTo = reconciled ? decidedAtOf(reconciled) : Infinity;
    const done = pending.filter((d) => decidedAtOf(d.intent) <= upTo);
    const left = pending.filter((d) => decidedAtOf(d.intent) > upTo);
    if (left.length > 0) this.#pending.set(uid, left);
    else this.#pending.delete(uid);
    await Promise.all(done.map((d) => this.#ack(d)));
  }

  async start(signal: AbortSignal): Promise<void> {
    const link = await this.#link;
    link.connection.onReconnect(() => void this.#requestResync(link, signal));
    await this.#requestResync(link, signal);
    signal.addEventListener("abort", () => void link.intents.stop(), { once: true });
    await this.#consume(link.intents, signal);
  }

  async #ack(d: IntentDelivery): Promise<void> {
    try {
      await d.ack();
    } catch (err) {
      // Redelivered after ack_wait; recording it again changes nothing.
      this.#log.warn({ err, uid: d.intent.workload?.uid }, "could not acknowledge an intent; it will be redelivered");
    }
  }

  #emit(uid: string): void {
    for (const h of this.#handlers) h(uid);
  }

  #learn(intent: PlacementIntent): void {
    if (intent.residency) for (const h of this.#factHandlers) h(intent.residency);
  }

  /** Stores `intent` unless a newer one of its workload is held; true when stored. */
  #store(intent: PlacementIntent): boolean {
    const w = intent.workload!;
    const held = this.#intents.get(w.uid);
    if (held && decidedAtOf(intent) < decidedAtOf(held)) return false;
    if (held?.workload && (held.workload.namespace !== w.namespace || held.workload.name !== w.name)) this.#byName.delete(`${held.workload.namespace}/${held.workload.name}`);
    this.#intents.set(w.uid, compact(intent));
    this.#byName.set(`${w.namespace}/${w.name}`, w.uid);
    return true;
  }

  #forget(uid: string): void {
    const held = this.#intents.get(uid);
    this.#intents.delete(uid);
    const key = held?.workload ? `${held.workload.namespace}/${held.workload.name}` : undefined;
    if (key && this.#byName.get(key) === uid) this.#byName.delete(key);
  }

  #record(delivery: IntentDelivery): void {
    const { intent } = delivery;
    const uid = intent.workload?.uid;
    if (!uid) {
      // The consumer checks the contract; an intent without a workload cannot be applied or waited for.
      void this.#ack(delivery);
      return;
    }
    this.#learn(intent);
    this.#touched?.add(uid);
    if (!this.#store(intent)) {
      // Superseded by the newer intent already held: nothing to apply.
      void this.#ack(delivery);
      return;
    }
    const pending = this.#pending.get(uid) ?? [];
    pending.push(delivery);
    this.#pending.set(uid, pending);
    this.#emit(uid);
  }

  /**
   * Consumes until stopped, starting the consumer again when it ends or fails: after 1 s,
   * doubling up to 5 s while it fails in a row (a member whose MemberCluster was deleted
   * has no stream until it is declared again), back to 1 s once something was delivered or
   * a run lasted 10 s. The first failure of a streak is an error in the log, the rest debug.
   */
  async #consume(source: IntentSource, signal: AbortSignal): Promise<void> {
    let delayMs = 1_000;
    let streak = 0;
    while (!signal.aborted) {
      const startedAt = this.#clock.now().getTime();
      const ranLong = () => {
        if (this.#clock.now().getTime() - startedAt < 10_000) return;
        delayMs = 1_000;
        streak = 0;
      };
      try {
        for await (const delivery of source) {
          delayMs = 1_000;
          streak = 0;
          this.#record(delivery);
          if (signal.aborted) break;
        }
        if (signal.aborted) return;
        ranLong();
        this.#log.warn({ retryInMs: delayMs }, "the intents consumer ended; starting it again");
      } catch (err) {
        if (signal.aborted) return;
        ranLong();
        streak++;
        this.#log[streak === 1 ? "error" : "debug"]({ err, retryInMs: delayMs, failuresInARow: streak }, "the intents consumer failed; starting it again");
      }
      await this.#clock.sleep(delayMs, signal).catch(() => undefined);
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }

  /** Coalesces requests: one full read at a time, and a request during one causes one more. */
  #requestResync(link: FederationLink, signal: AbortSignal): Promise<void> {
    this.#resyncWanted = true;
    this.#resyncRunning ??= this.#readUntilDone(link, signal).finally(() => {
      this.#resyncRunning = undefined;
      // Asked for between the last check and here: not lost.
      if (this.#resyncWanted && !signal.aborted) void this.#requestResync(link, signal);
    });
    return this.#resyncRunning;
  }

  async #readUntilDone(link: FederationLink, signal: AbortSignal): Promise<void> {
    while (this.#resyncWanted && !signal.aborted) {
      this.#resyncWanted = false;
      for (let attempt = 1; !signal.aborted; attempt++) {
        try {
          await this.#resync(link);
          break;
        } catch (err) {
          // Capped at 5 s: the usual failure is a stream the control plane has not created
          // yet (its MemberCluster was just declared), and the agent should be ready soon after.
          const wait = backoffMs({ attempt, initialMs: 500, maxMs: 5_000 });
          this.#log.warn({ err, attempt, retryInMs: wait }, "reading the intents stream failed; retrying");
          await this.#clock.sleep(wait, signal).catch(() => undefined);
        }
      }
    }
  }

  async #resync(link: FederationLink): Promise<void> {
    this.#touched = new Set();
    let changed: string[];
    try {
      const snapshot = await link.intents.latest();
      const fresh = new Set<string>();
      changed = [];
      for (const intent of snapshot) {
        const uid = intent.workload?.uid;
        if (!uid) continue;
        fresh.add(uid);
        this.#learn(intent);
        const held = this.#intents.get(uid);
        if (held && held.intentId === intent.intentId && decidedAtOf(held) === decidedAtOf(intent)) continue;
        if (this.#store(intent)) changed.push(uid);
      }
      // Only after the whole stream was read: a failed read must never look like "no intents".
      for (const uid of [...this.#intents.keys()]) {
        if (fresh.has(uid) || this.#touched.has(uid)) continue;
        this.#forget(uid);
        changed.push(uid);
      }
    } finally {
      this.#touched = undefined;
    }
    this.#resyncs++;
    // The first read announces every workload: drift that happened while no agent ran is
    // repaired for those with no event of their own (a Deployment deleted meanwhile).
    const announce = this.#synced ? changed : [...this.#intents.keys()];
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
    this.#log.info({ intents: this.#intents.size, changed: changed.length, resyncs: this.#resyncs }, "intents stream read");
    for (const uid of announce) this.#emit(uid);
  }
}
