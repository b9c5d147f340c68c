/**
 * Keeps the residency guard's admission policies and bindings on the member as shipped:
 * level-based, every few seconds it reads each one and compares it with what it last
 * stored; one that is missing or differs is put back, and the restore is logged and
 * carried in the heartbeats. Polling by name rather than a watch: the agent's RBAC names
 * these objects, and a list or watch cannot be limited to names without one watch per
 * object; four reads every two seconds are less than that.
 */
import type { Logger } from "pino";
import type { AdmissionObject, MemberApi } from "../kube/index.ts";
import type { Clock, Runnable } from "../runtime/index.ts";
import { FIELD_MANAGER } from "./deployment.ts";
import { guardChange } from "./guard-drift.ts";
import type { GuardDriftLog } from "./guard-drift.ts";

export interface GuardObjectsParams {
  objects: readonly AdmissionObject[];
  member: Pick<MemberApi, "getAdmissionObject" | "writeAdmissionObject">;
  drift: GuardDriftLog;
  clock: Clock;
  log: Logger;
  /** How often each object is read; default 2 s, so a change is undone well within 10 s. */
  intervalMs?: number;
}

export class GuardObjectsSync implements Runnable {
  readonly name = "guard-objects";
  readonly needLeaderElection = false;
  readonly #p: GuardObjectsParams & { intervalMs: number };
  /** The spec of each object as the server stored the agent's last write, by kind/name. */
  readonly #stored = new Map<string, Record<string, unknown>>();

  constructor(params: GuardObjectsParams) {
    this.#p = { ...params, intervalMs: params.intervalMs ?? 2_000 };
  }

  /**
   * Informer-shaped so the Manager starts it with the caches, before the agent has read
   * its intents from NATS: the guard is kept on the member even while the federation is
   * out of reach. It has nothing to sync, so it never holds the caches up.
   */
  hasSynced(): boolean {
    return true;
  }

  async waitForSync(): Promise<void> {}

  /** True once every object was read and written back at least once. */
  get ready(): boolean {
    return this.#stored.size === this.#p.objects.length;
  }

  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.syncOnce();
      await this.#p.clock.sleep(this.#p.intervalMs, signal).catch(() => undefined);
    }
  }

  /** One pass over every object; errors are logged and the next pass retries. */
  async syncOnce(): Promise<void> {
    for (const want of this.#p.objects) {
      const key = `${want.kind}/${want.metadata.name}`;
      try {
        await this.#syncOne(key, want);
      } catch (err) {
        this.#p.log.warn({ err, object: key }, "could not check or restore the residency guard's object; retrying");
      }
    }
  }

  async #syncOne(key: string, want: AdmissionObject): Promise<void> {
    const { member } = this.#p;
    const seen = await member.getAdmissionObject(want.kind, want.metadata.name);
    const stored = this.#stored.get(key);
    if (seen && stored && guardChange({ observed: seen, stored: { spec: stored } }) === undefined) return;
    // The labels and annotations others added stay (the chart's); the shipped ones win.
    const body: AdmissionObject = {
      kind: want.kind,
      metadata: {
        name: want.metadata.name,
        ...(seen?.metadata.resourceVersion ? { resourceVersion: seen.metadata.resourceVersion } : {}),
        labels: { ...seen?.metadata.labels, ...want.metadata.labels },
        ...(seen?.metadata.annotations ? { annotations: seen.metadata.annotations } : {}),
      },
      spec: want.spec,
    };
    const written = await member.writeAdmissionObject(body, FIELD_MANAGER);
    this.#stored.set(key, written.spec);
    // At start nothing was stored yet: the server's form of the shipped spec says whether the one found had been changed.
    const change = guardChange({ observed: seen, stored: written });
    if (!change) return;
    const restoredAt = this.#p.clock.now();
    this.#p.drift.record({ object: key, change, restoredAt });
    this.#p.log.warn({ object: key, change }, "the residency guard's object was changed on the member; restored");
  }
}
