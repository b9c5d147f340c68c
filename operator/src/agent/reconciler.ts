/**
 * The agent's reconcile of one workload (keyed by its uid on the host), level-based:
 * whatever woke it (an intent, a Deployment deleted or scaled, a pod, a namespace
 * going), it reads the newest intent and the member's objects from the caches, plans
 * with the pure `planWorkload`, applies, and reports the workload's status when what
 * the host acts on changed. Deliveries of the intent are acknowledged only after that.
 */
import type { Logger } from "pino";
import { MANAGED_BY_AGENT, MEMBER_LABELS, namespacePodSecurityLabels } from "../api/index.ts";
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { WorkloadRef } from "../gen/sovereign/v1/residency.ts";
import { ConflictError, KubeError, NotFoundError } from "../kube/index.ts";
import type { Deployment, MemberApi, Namespace, Pod } from "../kube/index.ts";
import type { AgentIntentResult, AgentMetrics } from "../metrics/index.ts";
import { TerminalError } from "../runtime/index.ts";
import type { Cache, Clock, Reconciler, Result } from "../runtime/index.ts";
import { intentRefusal } from "./admission.ts";
import type { Attestations } from "./attestations.ts";
import { appliedFrom, FIELD_MANAGER, InvalidIntentError } from "./deployment.ts";
import type { FederationLink, IntentCache } from "./intents.ts";
import { planWorkload } from "./plan.ts";
import type { LastApplied, NamespaceState, WorkloadPlan } from "./plan.ts";
import { GONE_STATUS_KEY, isGuardRefusal, replicaFailure, statusKey, workloadStatus } from "./status.ts";
import type { UidIndex } from "./uid-index.ts";

/** The name of the workload's Deployment is taken by one the agent does not manage: it is never touched. */
export class UnmanagedDeploymentError extends Error {
  override readonly name = "UnmanagedDeploymentError";
  /** Retried: the other Deployment may go. */
  readonly retryable = true;
}

/** This member may not run the intent (the check before any apply); a new intent is needed. */
export class IntentRefusedError extends TerminalError {
  override readonly name = "IntentRefusedError";
}

/** The member's API refused what the agent asked, or could not be reached: reconciled again with backoff. */
export class MemberApplyError extends Error {
  override readonly name = "MemberApplyError";
  readonly retryable = true;
}

/**
 * Why the member refused, when it said so (a 4xx other than a race or throttling): that
 * is reported to the host. An unreachable or overloaded API server is only retried.
 */
function refusalOf(err: unknown): string | undefined {
  if (err instanceof InvalidIntentError || err instanceof IntentRefusedError || err instanceof UnmanagedDeploymentError) return err.message;
  if (err instanceof KubeError && err.status >= 400 && err.status < 500 && ![404, 409, 429].includes(err.status)) return err.message;
  return undefined;
}

const isDefined = <T>(x: T | undefined): x is T => x !== undefined;

export interface WorkloadReconcilerDeps {
  cluster: string;
  /** The agent's release namespace (its credentials, the guard's parameter): never a workload's. */
  agentNamespace: string;
  member: Pick<MemberApi, "applyDeployment" | "getDeployment" | "deleteDeployment" | "ensureNamespace">;
  intents: Pick<IntentCache, "get" | "settle" | "hasPending">;
  deployments: Cache<Deployment>;
  pods: Cache<Pod>;
  namespaces: Cache<Namespace>;
  index: { deployments: UidIndex; pods: UidIndex };
  link: Promise<FederationLink>;
  clock: Clock;
  log: Logger;
  metrics: AgentMetrics;
  /** What runs here, per workload, for the member's signed attestations (attestations.ts). */
  attestations?: Pick<Attestations, "observe">;
}

export class WorkloadReconciler implements Reconciler {
  readonly #d: WorkloadReconcilerDeps;
  /** What the agent's last apply returned, per uid: a Deployment at that generation has the spec it applied. */
  readonly #applied = new Map<string, LastApplied>();
  /** Why the newest intent could not be applied, per uid, until it is. */
  readonly #errors = new Map<string, { message: string; generation: number; replicas: number }>();
  /** The status last published, per uid; absent means the "nothing here" status. */
  readonly #published = new Map<string, string>();
  readonly #guardRefusals = new Map<string, string>();
  readonly #readiness = new Map<string, boolean>();
  /** Namespaces the agent does not watch (not created by it) that it saw exist. */
  readonly #seenNamespaces = new Set<string>();

  constructor(deps: WorkloadReconcilerDeps) {
    this.#d = deps;
  }

  /** A namespace went: what the agent knew of it no longer holds. */
  forgetNamespace(name: string): void {
    this.#seenNamespaces.delete(name);
  }

  /** Whether the agent holds any state of this workload (a workload that went must leave nothing behind). */
  tracks(uid: string): boolean {
    return [this.#applied, this.#errors, this.#published, this.#guardRefusals, this.#readiness].some((m) => m.has(uid));
  }

  async reconcile(uid: string): Promise<Result> {
    const started = performance.now();
    const { deployments } = this.#d;
    const intent = this.#d.intents.get(uid);
    const own = this.#d.index.deployments.keys(uid).map((k) => deployments.get(k)).filter(isDefined);
    const w = intent?.workload;
    const atName = w ? deployments.get(`${w.namespace}/${w.name}`) : undefined;
    const plan = planWorkload({
      intent, own, atName,
      namespace: w ? this.#namespaceState(w.namespace) : "present",
      ...(this.#applied.has(uid) ? { lastApplied: this.#applied.get(uid)! } : {}),
    });
    const log = this.#d.log.child({ uid, ...(w ? { workload: `${w.namespace}/${w.name}`, generation: intent!.generation, replicas: intent!.replicas } : {}) });
    const ours = appliedFrom(atName)?.workload.uid === uid ? atName : undefined;
    let observed: Deployment | undefined = intent && intent.replicas > 0 ? ours : own[0];
    let failure: unknown;
    let result: AgentIntentResult | undefined;
    try {
      observed = await this.#execute({ uid, plan, intent, observed, log });
      if (plan.action === "apply") result = "applied";
      if (plan.action === "delete") result = "deleted";
      if (plan.action !== "wait") this.#errors.delete(uid);
    } catch (err) {
      failure = err;
      result = err instanceof TerminalError ? "invalid" : "error";
      const refusal = refusalOf(err);
      if (refusal && intent) this.#errors.set(uid, { message: refusal, generation: intent.generation, replicas: intent.replicas });
      if (refusal) log.error({ err }, "the member cannot run the intent now; the status says why");
      else log.warn({ err }, "could not make the member match the intent; retrying");
    }
    if (result) this.#d.metrics.intentApplied({ result, seconds: (performance.now() - started) / 1000 });

    const ref: WorkloadRef | undefined = w ?? appliedFrom(observed ?? own[0])?.workload;
    const live = this.#livePods(uid);
    if (ref) await this.#report({ uid, ref, deployment: observed, pods: live });
    this.#track(uid, observed);
    if (ref) this.#d.attestations?.observe({ uid, ref, deployment: observed, pods: live });

    if (failure !== undefined) {
      const refused = refusalOf(failure) !== undefined;
      // Refused with the reason reported: the host has its answer, the delivery is settled.
      if (refused) await this.#d.intents.settle(uid, intent);
      if (refused && failure instanceof TerminalError) return {};
      // Retried with backoff: the member may be reachable again, a quota raised, an unmanaged Deployment gone.
      throw new MemberApplyError((failure as Error)?.message ?? String(failure), { cause: failure });
    }
    // A workload whose namespace is still going is not applied yet: its delivery waits.
    if (plan.action !== "wait") await this.#d.intents.settle(uid, intent);
    if ((!intent || intent.replicas <= 0) && !observed && live.length === 0) this.#forget(uid);
    return {};
  }

  async #execute(p: { uid: string; plan: WorkloadPlan; intent: PlacementIntent | undefined; observed: Deployment | undefined; log: Logger }): Promise<Deployment | undefined> {
    const { plan, log } = p;
    switch (plan.action) {
      case "none":
      case "wait":
      case "stale":
        if (plan.action !== "none") log.debug({ why: plan.why }, `nothing to do yet (${plan.action})`);
        return p.observed;
      case "invalid":
        throw plan.error;
      case "delete":
        for (const t of plan.targets) await this.#d.member.deleteDeployment(t);
        log.info({ deployments: plan.targets.map((t) => `${t.namespace}/${t.name}`), why: plan.why }, "removed the workload's Deployment");
        this.#applied.delete(p.uid);
        return undefined;
      case "apply": {
        const refusal = this.#mayRunHere(p.intent!, plan.deployment);
        if (refusal) throw new IntentRefusedError(refusal);
        // Drift, when the member held this very intent already (or lost what the agent applied).
        const repair = appliedFrom(p.observed)?.intentId === p.intent!.intentId || (!p.observed && this.#applied.has(p.uid));
        const stored = await this.#apply(plan, p.intent!.podSecurity?.level);
        this.#applied.set(p.uid, { objectUid: stored.metadata.uid ?? "", generation: stored.metadata.generation ?? 0 });
        log.info({ drift: plan.drift, force: plan.force }, repair ? "repaired drift" : "applied the intent");
        return stored;
      }
    }
  }

  /**
   * The one place that decides whether this member may run the intent at all, before
   * anything is applied: the pod template against the intent's podSecurity, and the
   * namespace (kube-*, sovereign-system, the agent's own). A reason refuses it: reported
   * in the status, not retried until a new intent comes.
   */
  #mayRunHere(intent: PlacementIntent, deployment: Deployment): string | undefined {
    return intentRefusal({ intent, deployment, agentNamespace: this.#d.agentNamespace });
  }

  async #apply(plan: Extract<WorkloadPlan, { action: "apply" }>, level: string | undefined): Promise<Deployment> {
    const ns = plan.deployment.metadata.namespace!;
    if (plan.deleteFirst) {
      await this.#d.member.deleteDeployment(plan.deleteFirst);
      this.#d.log.info({ deployment: `${ns}/${plan.deleteFirst.name}`, replacedUid: plan.deleteFirst.uid }, "deleted the Deployment of an earlier workload of the same name");
    }
    if (plan.ensureNamespace) await this.#ensureNamespace(ns, level);
    try {
      return await this.#applyOnce(plan.deployment, plan.force);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      // The namespace is gone (one the agent does not watch, or its cache lags): create it, apply again.
      this.#seenNamespaces.delete(ns);
      await this.#ensureNamespace(ns, level);
      return await this.#applyOnce(plan.deployment, plan.force);
    }
  }

  async #applyOnce(deployment: Deployment, force: boolean): Promise<Deployment> {
    const apply = (f: boolean) => this.#d.member.applyDeployment({ deployment, fieldManager: FIELD_MANAGER, force: f });
    try {
      return await apply(force);
    } catch (err) {
      if (force || !(err instanceof ConflictError)) throw err;
      const { namespace = "", name } = deployment.metadata;
      const live = await this.#d.member.getDeployment(namespace, name);
      if (live && !appliedFrom(live)) {
        throw new UnmanagedDeploymentError(`Deployment ${namespace}/${name} exists and is not managed by the sovereign agent; it is left alone`);
      }
      // The agent's own after all (its cache had not seen it yet): take back what others changed.
      return await apply(true);
    }
  }

  /**
   * Creates the workload's namespace when it is missing, with the Pod Security admission
   * labels of the workload's level (restricted unless its policy lowers it to baseline),
   * so the member's own admission checks every field of the pods this agent does not.
   * A namespace that exists already is not relabelled: it belongs to the member's admin,
   * who may run other pods there under their own standard, and the agent has no right to
   * update namespaces (charts/member-agent/README.md).
   */
  async #ensureNamespace(name: string, level: string | undefined): Promise<void> {
    await this.#d.member.ensureNamespace(name, { ...namespacePodSecurityLabels(level), [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT });
    this.#seenNamespaces.add(name);
  }

  #namespaceState(name: string): NamespaceState {
    const ns = this.#d.namespaces.get(name);
    if (ns) return ns.metadata.deletionTimestamp ? "terminating" : "present";
    return this.#seenNamespaces.has(name) ? "present" : "missing";
  }

  #livePods(uid: string): Pod[] {
    return this.#d.index.pods.keys(uid).map((k) => this.#d.pods.get(k)).filter(isDefined).filter((p) => !p.metadata.deletionTimestamp);
  }

  /** Publishes the status when what the host acts on changed, or when a delivery waits for its answer. */
  async #report(p: { uid: string; ref: WorkloadRef; deployment: Deployment | undefined; pods: readonly Pod[] }): Promise<void> {
    const error = this.#errors.get(p.uid);
    const status = workloadStatus({ cluster: this.#d.cluster, workload: p.ref, deployment: p.deployment, pods: p.pods, ...(error ? { error } : {}), now: this.#d.clock.now() });
    this.#countGuardRefusal(p.uid, replicaFailure(p.deployment));
    const key = statusKey(status);
    if (key === (this.#published.get(p.uid) ?? GONE_STATUS_KEY) && !this.#d.intents.hasPending(p.uid)) return;
    const { reports } = await this.#d.link;
    await reports.publishStatus(status);
    if (key === GONE_STATUS_KEY) this.#published.delete(p.uid);
    else this.#published.set(p.uid, key);
  }

  #countGuardRefusal(uid: string, message: string | undefined): void {
    if (isGuardRefusal(message)) {
      if (this.#guardRefusals.get(uid) !== message) this.#d.metrics.guardRejection();
      this.#guardRefusals.set(uid, message!);
    } else {
      this.#guardRefusals.delete(uid);
    }
  }

  /** The Deployments gauge, kept per workload instead of counted over the whole cache. */
  #track(uid: string, d: Deployment | undefined): void {
    const before = this.#readiness.get(uid);
    const now = d ? (d.status?.readyReplicas ?? 0) >= d.spec.replicas : undefined;
    if (before === now) return;
    if (now === undefined) this.#readiness.delete(uid);
    else this.#readiness.set(uid, now);
    let ready = 0;
    for (const r of this.#readiness.values()) if (r) ready++;
    this.#d.metrics.deployments({ ready, progressing: this.#readiness.size - ready });
  }

  #forget(uid: string): void {
    this.#applied.delete(uid);
    this.#errors.delete(uid);
    this.#guardRefusals.delete(uid);
    this.#readiness.delete(uid);
    this.#published.delete(uid);
  }
}
