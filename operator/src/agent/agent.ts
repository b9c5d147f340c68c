/**
 * The member agent: a thin shell over the pure functions of this folder. It turns
 * intents into Deployments (server-side apply), keeps the residency guard's parameter
 * equal to the host's facts, reports status on every change of its Deployments and
 * pods, sends heartbeats, and resyncs after start and after every reconnect.
 */
import type { Logger } from "pino";
import { GUARD_PARAM, MANAGED_BY_AGENT, MEMBER_LABELS } from "../api/index.ts";
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { ResidencyFacts, WorkloadRef } from "../gen/sovereign/v1/residency.ts";
import type { IntentDelivery, IntentSource, ReportPublisher } from "../federation/index.ts";
import type { Deployment, MemberApi, Pod } from "../kube/index.ts";
import type { AgentIntentResult, AgentMetrics } from "../metrics/index.ts";
import { noopAgentMetrics } from "../metrics/index.ts";
import { isTerminal } from "../runtime/index.ts";
import type { Clock, Informer, Runnable } from "../runtime/index.ts";
import { backoffMs } from "./credentials.ts";
import { Debouncer, KeyedLock } from "./debounce.ts";
import { appliedFrom, deploymentFor, FIELD_MANAGER } from "./deployment.ts";
import { guardParamData, nextGuardChange } from "./guard-param.ts";
import type { GuardParamData } from "./guard-param.ts";
import { allocatableOf } from "./heartbeat.ts";
import { planIntent, resyncRemovals } from "./plan.ts";
import { isGuardRefusal, replicaFailure, workloadStatus } from "./status.ts";

export interface AgentDeps {
  cluster: string;
  agentVersion: string;
  member: MemberApi;
  intents: IntentSource;
  reports: ReportPublisher;
  connection: { connected(): boolean; onReconnect(handler: () => void): void };
  /** Informers on the agent's Deployments (managed-by label) and on pods with a workload-uid label. */
  deployments: Informer<Deployment>;
  pods: Informer<Pod>;
  clock: Clock;
  log: Logger;
  metrics?: AgentMetrics;
  /** The host's facts for this member from Join; otherwise they come with the intents. */
  residency?: ResidencyFacts;
  heartbeatIntervalMs?: number;
  statusDebounceMs?: number;
  /** The agent's own namespace (its --namespace option), where the guard's parameter lives; default GUARD_PARAM's. */
  namespace?: string;
}

const DEPLOYMENT_SELECTOR = `${MEMBER_LABELS.managedBy}=${MANAGED_BY_AGENT}`;

export class Agent implements Runnable {
  readonly name = "member-agent";
  readonly #d: AgentDeps;
  readonly #guardParam: { namespace: string; name: string };
  readonly #metrics: AgentMetrics;
  readonly #locks = new KeyedLock();
  readonly #status: Debouncer;
  /** Newest decidedAt handled per workload uid, so an older intent never undoes a newer one, deletes included. */
  readonly #handledAt = new Map<string, number>();
  /** Workloads seen (intents or Deployments), so a removal can still be reported with their name. */
  readonly #workloads = new Map<string, WorkloadRef>();
  /** Why the newest intent of a workload could not be applied. */
  readonly #errors = new Map<string, { message: string; generation: number; replicas: number }>();
  readonly #failures = new Map<string, number>();
  readonly #guardRefusals = new Map<string, string>();
  /** Bumped on each handled intent; a resync leaves alone workloads handled after it read the stream. */
  readonly #touched = new Map<string, number>();
  #tick = 0;
  #facts: ResidencyFacts | undefined;
  #guardApplied: GuardParamData | undefined;
  #guardWake: AbortController | undefined;
  #resyncs = 0;
  #resyncWanted = false;
  #resyncRunning: Promise<void> | undefined;
  #sequence = 0;
  #started = false;
  #guardReady = false;

  constructor(deps: AgentDeps) {
    this.#d = deps;
    this.#guardParam = { namespace: deps.namespace ?? GUARD_PARAM.namespace, name: GUARD_PARAM.name };
    this.#metrics = deps.metrics ?? noopAgentMetrics;
    this.#facts = deps.residency;
    this.#status = new Debouncer({
      clock: deps.clock,
      delayMs: deps.statusDebounceMs ?? 200,
      fire: (uid) => this.#publishStatus(uid),
      onError: (uid, err) => deps.log.warn({ err, uid }, "could not publish a workload status; the next change reports it"),
    });
  }

  /** For /readyz: connected, caches synced, and the first resync done. */
  ready(): { ok: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.#d.connection.connected()) reasons.push("NATS is not connected");
    if (!this.#d.deployments.hasSynced() || !this.#d.pods.hasSynced()) reasons.push("caches have not synced");
    if (this.#resyncs === 0) reasons.push("the first resync has not completed");
    return { ok: reasons.length === 0, reasons };
  }

  /** Completed resyncs (tests wait on it). */
  get resyncs(): number {
    return this.#resyncs;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error("the agent runs once");
    this.#started = true;
    const { log } = this.#d;
    this.#d.deployments.onChange((d) => {
      const applied = appliedFrom(d);
      if (applied) this.#workloads.set(applied.workload.uid, applied.workload);
      this.#onObject(d);
    });
    this.#d.pods.onChange((p) => this.#onObject(p));
    const background = [
      this.#d.deployments.start(signal),
      this.#d.pods.start(signal),
    ];
    await retrying({ what: `ensure namespace ${this.#guardParam.namespace}`, clock: this.#d.clock, log, signal }, () =>
      this.#d.member.ensureNamespace(this.#guardParam.namespace, { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT }));
    await this.#syncGuard(signal).catch((err: unknown) => log.warn({ err }, "could not write the guard's parameter yet"));
    await Promise.all([this.#d.deployments.waitForSync(signal), this.#d.pods.waitForSync(signal)]);
    this.#d.connection.onReconnect(() => this.#requestResync(signal));
    await this.#requestResync(signal);
    const loops = [
      this.#consume(signal),
      this.#heartbeats(signal),
      this.#guardTimer(signal),
    ];
    signal.addEventListener("abort", () => void this.#d.intents.stop(), { once: true });
    await Promise.allSettled([...loops, ...background]);
    await this.#status.stop();
    await this.#resyncRunning?.catch(() => undefined);
    log.info("agent stopped");
  }

  #onObject(obj: Deployment | Pod): void {
    const uid = obj.metadata.labels?.[MEMBER_LABELS.workloadUid];
    if (uid) this.#status.schedule(uid);
  }

  // --- intents -------------------------------------------------------------------

  async #consume(signal: AbortSignal): Promise<void> {
    // Intents of different workloads are applied side by side (each is a few API round
    // trips on the member); those of one workload stay in arrival order, because #handle
    // takes the workload's FIFO lock before its first await.
    const inFlight = new Set<Promise<void>>();
    while (!signal.aborted) {
      try {
        for await (const delivery of this.#d.intents) {
          const p: Promise<void> = this.#handleDelivery(delivery)
            .catch((err: unknown) => this.#d.log.error({ err }, "handling an intent failed"))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= MAX_INTENTS_IN_FLIGHT) await Promise.race(inFlight);
          if (signal.aborted) break;
        }
        await Promise.allSettled(inFlight);
        if (signal.aborted) return;
        this.#d.log.warn("the intents consumer ended; starting it again");
      } catch (err) {
        if (signal.aborted) return;
        this.#d.log.error({ err }, "the intents consumer failed; starting it again");
      }
      await this.#d.clock.sleep(1_000, signal).catch(() => undefined);
    }
  }

  async #handleDelivery(delivery: IntentDelivery): Promise<void> {
    const { intent } = delivery;
    const uid = intent.workload?.uid ?? "";
    const outcome = await this.#handle(intent, { fromConsumer: true });
    if (outcome === "retry") {
      const failures = (this.#failures.get(uid) ?? 0) + 1;
      this.#failures.set(uid, failures);
      delivery.nak(backoffMs({ attempt: failures, initialMs: 250, maxMs: 30_000 }));
      return;
    }
    this.#failures.delete(uid);
    try {
      await delivery.ack();
    } catch (err) {
      // Redelivered after ack_wait; applying it again is a no-op.
      this.#d.log.warn({ err, uid }, "could not acknowledge an applied intent; it will be redelivered");
    }
  }

  /** Applies one intent; "retry" when it may succeed later, otherwise done (errors recorded in the status). */
  async #handle(intent: PlacementIntent, source: { fromConsumer: boolean }): Promise<"done" | "retry"> {
    const uid = intent.workload?.uid ?? "";
    const started = performance.now();
    const log = this.#d.log.child({ uid, workload: `${intent.workload?.namespace}/${intent.workload?.name}`, generation: intent.generation, replicas: intent.replicas });
    const record = (result: AgentIntentResult) => this.#metrics.intentApplied({ result, seconds: (performance.now() - started) / 1000 });
    if (source.fromConsumer) this.#touched.set(uid, ++this.#tick);
    if (intent.residency) this.#learnFacts(intent.residency);
    return this.#locks.run(uid, async () => {
      try {
        if (intent.workload) this.#workloads.set(uid, intent.workload);
        const { namespace = "", name = "" } = intent.workload ?? {};
        const current = namespace && name ? await this.#d.member.getDeployment(namespace, name) : undefined;
        const lastHandledAt = this.#handledAt.get(uid);
        const plan = planIntent({ intent, current, ...(lastHandledAt !== undefined ? { lastHandledAt } : {}) });
        switch (plan.action) {
          case "stale":
            log.info("ignoring an intent decided before the one already applied");
            record("applied");
            return "done";
          case "conflict":
            throw new ConflictingObjectError(plan.message);
          case "none":
            break;
          case "delete":
            await this.#d.member.deleteDeployment({ namespace, name, uid: plan.deleteUid });
            log.info("deleted the Deployment (zero replicas)");
            break;
          case "replace":
            await this.#d.member.deleteDeployment({ namespace, name, uid: plan.deleteUid });
            log.info({ replacedUid: plan.deleteUid }, "deleted the Deployment of an earlier workload of the same name");
            await this.#apply(intent);
            break;
          case "apply":
            await this.#apply(intent);
            break;
        }
        this.#handledAt.set(uid, Math.max(lastHandledAt ?? 0, intent.decidedAt?.getTime() ?? 0));
        this.#errors.delete(uid);
        record(intent.replicas > 0 ? "applied" : "deleted");
        this.#status.schedule(uid);
        return "done";
      } catch (err) {
        if (!isTerminal(err)) {
          log.warn({ err }, "could not apply the intent; it will be redelivered");
          record("error");
          return "retry";
        }
        // Acknowledged so it is not redelivered forever, but never silently: the status says why.
        log.error({ err }, "the intent cannot be applied on this member");
        this.#errors.set(uid, { message: (err as Error).message, generation: intent.generation, replicas: intent.replicas });
        this.#handledAt.set(uid, Math.max(this.#handledAt.get(uid) ?? 0, intent.decidedAt?.getTime() ?? 0));
        record("invalid");
        this.#status.schedule(uid);
        return "done";
      }
    });
  }

  async #apply(intent: PlacementIntent): Promise<void> {
    const deployment = deploymentFor(intent);
    await this.#d.member.ensureNamespace(deployment.metadata.namespace!, { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT });
    await this.#d.member.applyDeployment(deployment, FIELD_MANAGER);
  }

  // --- resync --------------------------------------------------------------------

  /** Coalesces resync requests: one runs at a time, and a request during a run causes one more. */
  #requestResync(signal: AbortSignal): Promise<void> {
    this.#resyncWanted = true;
    if (this.#resyncRunning) return this.#resyncRunning;
    this.#resyncRunning = (async () => {
      while (this.#resyncWanted && !signal.aborted) {
        this.#resyncWanted = false;
        await retrying({ what: "resync", clock: this.#d.clock, log: this.#d.log, signal }, () => this.#resync());
      }
    })().finally(() => { this.#resyncRunning = undefined; });
    return this.#resyncRunning;
  }

  async #resync(): Promise<void> {
    const mark = this.#tick;
    const intents = await this.#d.intents.latest();
    for (const intent of intents) {
      if (intent.residency) this.#learnFacts(intent.residency);
    }
    let retry = 0;
    for (const intent of intents) if ((await this.#handle(intent, { fromConsumer: false })) === "retry") retry++;
    // Only once the whole stream was read: a failed read must never look like "no intents".
    const deployments = await this.#d.member.listDeployments(DEPLOYMENT_SELECTOR);
    // Workloads the consumer handled since the stream was read may have a Deployment the snapshot does not know of.
    const protectedUids = new Set([...this.#touched].filter(([, t]) => t > mark).map(([uid]) => uid));
    const removals = resyncRemovals({ intents, deployments, protectedUids });
    for (const d of removals) {
      const uid = d.metadata.labels?.[MEMBER_LABELS.workloadUid] ?? "";
      await this.#locks.run(uid, () => this.#d.member.deleteDeployment({ namespace: d.metadata.namespace ?? "", name: d.metadata.name, uid: d.metadata.uid ?? "" }));
      this.#d.log.info({ uid, deployment: `${d.metadata.namespace}/${d.metadata.name}` }, "resync removed a Deployment whose workload has no intent for this member");
    }
    if (retry > 0) throw new Error(`${retry} intents of the resync could not be applied yet`);
    this.#resyncs++;
    this.#d.log.info({ intents: intents.length, removed: removals.length }, "resync done");
  }

  // --- status --------------------------------------------------------------------

  async #publishStatus(uid: string): Promise<void> {
    const deployment = this.#d.deployments.list().find((d) => d.metadata.labels?.[MEMBER_LABELS.workloadUid] === uid);
    const applied = appliedFrom(deployment);
    const workload = applied?.workload ?? this.#workloads.get(uid);
    if (!workload) return;
    const pods = this.#d.pods.list().filter((p) => p.metadata.labels?.[MEMBER_LABELS.workloadUid] === uid);
    const error = this.#errors.get(uid);
    const status = workloadStatus({ cluster: this.#d.cluster, workload, deployment, pods, ...(error ? { error } : {}), now: this.#d.clock.now() });
    this.#countGuardRefusal(uid, replicaFailure(deployment));
    await this.#d.reports.publishStatus(status);
    this.#updateDeploymentMetrics();
    if (!deployment && !error && pods.length === 0) this.#workloads.delete(uid);
  }

  #countGuardRefusal(uid: string, message: string | undefined): void {
    const previous = this.#guardRefusals.get(uid);
    if (isGuardRefusal(message)) {
      if (previous !== message) this.#metrics.guardRejection();
      this.#guardRefusals.set(uid, message!);
    } else {
      this.#guardRefusals.delete(uid);
    }
  }

  #updateDeploymentMetrics(): void {
    let ready = 0;
    let progressing = 0;
    for (const d of this.#d.deployments.list()) {
      if ((d.status?.readyReplicas ?? 0) >= d.spec.replicas) ready++;
      else progressing++;
    }
    this.#metrics.deployments({ ready, progressing });
  }

  // --- heartbeat -----------------------------------------------------------------

  async #heartbeats(signal: AbortSignal): Promise<void> {
    const interval = this.#d.heartbeatIntervalMs ?? 5_000;
    while (!signal.aborted) {
      try {
        const nodes = await this.#d.member.listNodes();
        await this.#d.reports.publishHeartbeat({
          cluster: this.#d.cluster,
          agentVersion: this.#d.agentVersion,
          allocatable: allocatableOf(nodes),
          sentAt: this.#d.clock.now(),
          sequence: ++this.#sequence,
        });
        this.#metrics.heartbeatPublished();
      } catch (err) {
        this.#d.log.warn({ err }, "could not send a heartbeat");
      }
      await this.#d.clock.sleep(interval, signal).catch(() => undefined);
    }
  }

  // --- the guard's parameter -----------------------------------------------------

  #learnFacts(facts: ResidencyFacts): void {
    this.#facts = facts;
    // Wake the guard timer so it writes the new facts now.
    this.#guardWake?.abort();
  }

  async #syncGuard(_signal: AbortSignal): Promise<void> {
    if (!this.#facts) return;
    const data = guardParamData({ cluster: this.#d.cluster, facts: this.#facts, now: this.#d.clock.now() });
    if (this.#guardApplied && JSON.stringify(this.#guardApplied) === JSON.stringify(data)) return;
    await this.#d.member.applyConfigMap({ ...this.#guardParam, labels: { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT }, data }, FIELD_MANAGER);
    this.#guardApplied = data;
    this.#guardReady = true;
    this.#d.log.info({ param: data }, "residency guard parameter written");
  }

  /** True once the guard's parameter holds the host's facts (until then the guard refuses every sovereign pod). */
  get guardReady(): boolean {
    return this.#guardReady;
  }

  /** Rewrites the parameter when facts arrive or change, and at the instant the next certification expires. */
  async #guardTimer(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait = 60_000;
      try {
        await this.#syncGuard(signal);
        const next = this.#facts ? nextGuardChange({ facts: this.#facts, now: this.#d.clock.now() }) : undefined;
        if (next) wait = Math.min(Math.max(0, next.getTime() - this.#d.clock.now().getTime()), 2 ** 31 - 1);
        else if (this.#guardApplied) wait = 2 ** 31 - 1;
      } catch (err) {
        this.#d.log.warn({ err }, "could not write the residency guard's parameter; retrying");
        wait = 2_000;
      }
      const wake = new AbortController();
      this.#guardWake = wake;
      const both = AbortSignal.any([signal, wake.signal]);
      await this.#d.clock.sleep(wait, both).catch(() => undefined);
    }
  }
}

/** How many intents (of different workloads) the agent applies at once. */
const MAX_INTENTS_IN_FLIGHT = 16;

class ConflictingObjectError extends Error {
  override readonly name = "ConflictingObjectError";
  readonly retryable = false;
}

/** Runs `op` until it succeeds or `signal` aborts, with backoff; for steps the agent cannot do without. */
async function retrying(params: { what: string; clock: Clock; log: Logger; signal: AbortSignal }, op: () => Promise<void>): Promise<void> {
  for (let attempt = 1; !params.signal.aborted; attempt++) {
    try {
      await op();
      return;
    } catch (err) {
      // Capped at 5 s: the usual failure is a stream the control plane has not created yet
      // (its MemberCluster was just declared), and the agent should be ready soon after.
      const wait = backoffMs({ attempt, initialMs: 500, maxMs: 5_000 });
      params.log.warn({ err, attempt, retryInMs: wait }, `${params.what} failed; retrying`);
      await params.clock.sleep(wait, params.signal).catch(() => undefined);
    }
  }
}
