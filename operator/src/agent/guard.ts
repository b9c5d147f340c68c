/**
 * Keeps the residency guard's parameter equal to the host's facts for this member:
 * written when facts first arrive (from Join, then from every intent), when they change,
 * at the instant the next certification stops counting, and when it is found deleted or
 * edited on the member (read every `checkIntervalMs`): a restore is logged and carried in
 * the heartbeats.
 */
import type { Logger } from "pino";
import { GUARD_PARAM, MANAGED_BY_AGENT, MEMBER_LABELS } from "../api/index.ts";
import type { ResidencyFacts } from "../gen/sovereign/v1/residency.ts";
import type { MemberApi } from "../kube/index.ts";
import { MAX_TIMER_MS } from "../runtime/index.ts";
import type { Clock, Runnable } from "../runtime/index.ts";
import { FIELD_MANAGER } from "./deployment.ts";
import type { GuardDriftLog } from "./guard-drift.ts";
import { guardParamData, nextGuardChange } from "./guard-param.ts";
import type { GuardParamData } from "./guard-param.ts";
import type { FederationLink } from "./intents.ts";

export interface GuardParamSyncParams {
  cluster: string;
  namespace?: string;
  member: Pick<MemberApi, "applyConfigMap" | "ensureNamespace" | "getConfigMap">;
  link: Promise<FederationLink>;
  clock: Clock;
  log: Logger;
  /** Where restores are recorded for the heartbeats. */
  drift?: GuardDriftLog;
  /** How often the ConfigMap is read back; default 2 s, so an edit is undone well within 10 s. */
  checkIntervalMs?: number;
}

export class GuardParamSync implements Runnable {
  readonly name = "guard-param";
  readonly needLeaderElection = false;
  readonly #p: GuardParamSyncParams & { checkIntervalMs: number };
  /** The ConfigMap the guard's binding reads: in the agent's own namespace (the chart's release namespace). */
  readonly #param: { namespace: string; name: string };
  #facts: ResidencyFacts | undefined;
  #applied: GuardParamData | undefined;
  #namespaceReady = false;
  #wake: AbortController | undefined;

  constructor(params: GuardParamSyncParams) {
    this.#p = { ...params, checkIntervalMs: params.checkIntervalMs ?? 2_000 };
    this.#param = { namespace: params.namespace ?? GUARD_PARAM.namespace, name: GUARD_PARAM.name };
  }

  /** True once the parameter holds the host's facts (until then the guard refuses every sovereign pod). */
  get ready(): boolean {
    return this.#applied !== undefined;
  }

  /** Facts as an intent carried them: newer than Join's. */
  learn(facts: ResidencyFacts): void {
    this.#facts = facts;
    this.#wake?.abort();
  }

  async start(signal: AbortSignal): Promise<void> {
    const link = await this.#p.link;
    this.#facts ??= link.residency;
    while (!signal.aborted) {
      // Armed before writing: facts learned while a write runs wake the next wait at once.
      const wake = new AbortController();
      this.#wake = wake;
      let wait = this.#p.checkIntervalMs;
      try {
        await this.#sync();
        const next = this.#facts ? nextGuardChange({ facts: this.#facts, now: this.#p.clock.now() }) : undefined;
        if (next) wait = Math.min(Math.max(0, next.getTime() - this.#p.clock.now().getTime()), wait, MAX_TIMER_MS);
      } catch (err) {
        this.#p.log.warn({ err }, "could not write the residency guard's parameter; retrying");
        wait = 2_000;
      }
      await this.#p.clock.sleep(wait, AbortSignal.any([signal, wake.signal])).catch(() => undefined);
    }
  }

  async #sync(): Promise<void> {
    if (!this.#namespaceReady) {
      await this.#p.member.ensureNamespace(this.#param.namespace, { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT });
      this.#namespaceReady = true;
    }
    if (!this.#facts) return;
    const data = guardParamData({ cluster: this.#p.cluster, facts: this.#facts, now: this.#p.clock.now() });
    const change = this.#applied ? await this.#drift(this.#applied) : undefined;
    if (!change && this.#applied && JSON.stringify(this.#applied) === JSON.stringify(data)) return;
    await this.#p.member.applyConfigMap({ ...this.#param, labels: { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT }, data }, FIELD_MANAGER);
    this.#applied = data;
    if (change) {
      const object = `ConfigMap/${this.#param.name}`;
      this.#p.drift?.record({ object, change, restoredAt: this.#p.clock.now() });
      this.#p.log.warn({ object, change, param: data }, "the residency guard's parameter was changed on the member; restored");
    } else {
      this.#p.log.info({ param: data }, "residency guard parameter written");
    }
  }

  /**
   * Whether the ConfigMap on the member still says what the agent wrote: only the keys it
   * writes count (keys another manager added are not the guard's, and server-side apply
   * leaves them).
   */
  async #drift(applied: GuardParamData): Promise<"deleted" | "edited" | undefined> {
    const observed = await this.#p.member.getConfigMap(this.#param.namespace, this.#param.name);
    if (!observed) return "deleted";
    return Object.entries(applied).some(([k, v]) => observed[k] !== v) ? "edited" : undefined;
  }
}
