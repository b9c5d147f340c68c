/**
 * The member agent, as runnables for the Manager: informers on the member's objects
 * (its Deployments, their pods, the namespaces it created), the intents cache (desired
 * state), one Controller keyed by workload uid whose reconcile makes the member match
 * the intent, heartbeats, and the residency guard's parameter. Any change of desired or
 * observed state enqueues the workload's uid; nothing acts on the event itself.
 */
import type { Logger } from "pino";
import { GUARD_PARAM, MANAGED_BY_AGENT, MEMBER_LABELS } from "../api/index.ts";
import type { AdmissionObject, Deployment, MemberApi, Namespace, Pod } from "../kube/index.ts";
import { noopAgentMetrics } from "../metrics/index.ts";
import type { AgentMetrics, ControllerMetrics, QueueMetricsProvider } from "../metrics/index.ts";
import { Controller, ExponentialFailureRateLimiter, BucketRateLimiter, MaxOfRateLimiter } from "../runtime/index.ts";
import type { Clock, Informer, Manager, Runnable } from "../runtime/index.ts";
import { Attestations } from "./attestations.ts";
import type { AttestationSink } from "./attestations.ts";
import { GuardParamSync } from "./guard.ts";
import { GuardDriftLog } from "./guard-drift.ts";
import { GuardObjectsSync } from "./guard-objects.ts";
import { Heartbeats } from "./heartbeat-loop.ts";
import { IntentCache } from "./intents.ts";
import type { FederationLink } from "./intents.ts";
import { WorkloadReconciler } from "./reconciler.ts";
import { UidIndex } from "./uid-index.ts";

/** What the agent's informers select: its own Deployments and namespaces, and every pod of a sovereign workload. */
export const AGENT_SELECTORS = {
  deployments: `${MEMBER_LABELS.managedBy}=${MANAGED_BY_AGENT}`,
  namespaces: `${MEMBER_LABELS.managedBy}=${MANAGED_BY_AGENT}`,
  pods: MEMBER_LABELS.workloadUid,
} as const;

export interface AgentDeps {
  cluster: string;
  agentVersion: string;
  member: MemberApi;
  /** Resolves once the agent has joined and connected to NATS; a rejection (a refused Join) stops the agent. */
  federation: Promise<FederationLink>;
  deployments: Informer<Deployment>;
  pods: Informer<Pod>;
  namespaces: Informer<Namespace>;
  clock: Clock;
  log: Logger;
  metrics?: AgentMetrics & Partial<ControllerMetrics & QueueMetricsProvider>;
  heartbeatIntervalMs?: number;
  /** Workloads reconciled at once (never two for one workload). Default 16. */
  workers?: number;
  /**
   * How long a pod change or a Deployment's status change waits before its workload is
   * reconciled, so a burst (pods going Ready one by one) gives one status. Default 100 ms.
   */
  statusDelayMs?: number;
  /** The agent's own namespace (its --namespace option), where the guard's parameter lives; default GUARD_PARAM's. */
  namespace?: string;
  /** Where the member's signed attestations go, and how often each workload is attested at least; none: no attestations. */
  attestations?: { sink: Promise<AttestationSink>; intervalMs?: number };
  /**
   * The residency guard's admission policies and bindings as shipped (--guard-manifests),
   * kept on the member: restored when edited or deleted. None: the agent leaves them to
   * whoever installs them (its parameter it always keeps).
   */
  guardObjects?: readonly AdmissionObject[];
  /** How often the guard's objects and parameter are read back; default 2 s. */
  guardCheckIntervalMs?: number;
}

/**
 * Per workload: 250 ms doubling to 5 s (a refusal such as a quota is retried, never
 * hammered); 10 retries/s overall. Capped at 5 s so that work failed during an outage of
 * the member's API server reaches it within seconds of its return: with a 30 s cap, a
 * 20 s outage left the next retry up to 16 s after the server was back (npm run chaos).
 */
function agentRateLimiter(clock: Clock) {
  return new MaxOfRateLimiter([
    new ExponentialFailureRateLimiter({ baseMs: 250, maxMs: 5_000 }),
    new BucketRateLimiter({ qps: 10, burst: 100, clock }),
  ]);
}

const keyOf = (o: { metadata: { namespace?: string; name: string } }) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

export class Agent {
  readonly intents: IntentCache;
  readonly controller: Controller;
  readonly reconciler: WorkloadReconciler;
  readonly #d: AgentDeps;
  readonly #guard: GuardParamSync;
  readonly #guardObjects: GuardObjectsSync | undefined;
  readonly #guardDrift = new GuardDriftLog();
  readonly #heartbeats: Heartbeats;
  readonly #attestations: Attestations | undefined;
  readonly #link: { value?: FederationLink; failed?: unknown } = {};
  readonly #index = { deployments: new UidIndex(), pods: new UidIndex() };

  constructor(deps: AgentDeps) {
    this.#d = deps;
    const metrics = deps.metrics ?? noopAgentMetrics;
    const log = deps.log;
    deps.federation.then((l) => { this.#link.value = l; }, (err: unknown) => { this.#link.failed = err; });
    this.intents = new IntentCache({ link: deps.federation, clock: deps.clock, log });
    const checkIntervalMs = deps.guardCheckIntervalMs ?? 2_000;
    this.#guard = new GuardParamSync({
      cluster: deps.cluster, ...(deps.namespace ? { namespace: deps.namespace } : {}), member: deps.member, link: deps.federation, clock: deps.clock, log,
      drift: this.#guardDrift, checkIntervalMs,
    });
    this.#guardObjects = deps.guardObjects?.length
      ? new GuardObjectsSync({ objects: deps.guardObjects, member: deps.member, drift: this.#guardDrift, clock: deps.clock, log, intervalMs: checkIntervalMs })
      : undefined;
    this.#heartbeats = new Heartbeats({
      cluster: deps.cluster, agentVersion: deps.agentVersion, member: deps.member, link: deps.federation,
      clock: deps.clock, log, metrics, intervalMs: deps.heartbeatIntervalMs ?? 5_000, drift: this.#guardDrift,
    });
    this.#attestations = deps.attestations
      ? new Attestations({ cluster: deps.cluster, sink: deps.attestations.sink, clock: deps.clock, log: log.child({ component: "attestations" }), ...(deps.attestations.intervalMs ? { intervalMs: deps.attestations.intervalMs } : {}) })
      : undefined;
    this.reconciler = new WorkloadReconciler({
      cluster: deps.cluster, agentNamespace: deps.namespace ?? GUARD_PARAM.namespace, member: deps.member, intents: this.intents,
      deployments: deps.deployments, pods: deps.pods, namespaces: deps.namespaces, index: this.#index,
      link: deps.federation, clock: deps.clock, log, metrics,
      ...(this.#attestations ? { attestations: this.#attestations } : {}),
    });
    this.controller = new Controller({
      name: "member-agent", reconciler: this.reconciler, workers: deps.workers ?? 16, clock: deps.clock, log,
      needLeaderElection: false, rateLimiter: agentRateLimiter(deps.clock),
      ...(deps.metrics?.reconciled ? { metrics: deps.metrics as ControllerMetrics } : {}),
      ...(deps.metrics?.forQueue ? { queueMetrics: deps.metrics as QueueMetricsProvider } : {}),
    });
    this.#watch();
  }

  /** Every runnable, for `Manager.add`: the caches first (the Manager starts and syncs those before the rest). */
  get runnables(): Runnable[] {
    return [
      this.#d.deployments, this.#d.pods, this.#d.namespaces, this.intents, this.controller, this.#heartbeats, this.#guard,
      ...(this.#attestations ? [this.#attestations] : []), ...(this.#guardObjects ? [this.#guardObjects] : []),
    ];
  }

  addTo(manager: Manager): void {
    for (const r of this.runnables) manager.add(r);
  }

  /** Why the agent is not ready, beyond caches still syncing (the Manager reports those). */
  notReady(): string[] {
    if (this.#link.failed !== undefined) return [`could not join the federation: ${(this.#link.failed as Error)?.message ?? String(this.#link.failed)}`];
    if (!this.#link.value) return ["not joined to the federation yet"];
    return this.#link.value.connection.connected() ? [] : ["NATS is not connected"];
  }

  /** Completed full reads of the intents stream (one on start, one after every reconnect). */
  get resyncs(): number {
    return this.intents.resyncs;
  }

  /** True once the guard's parameter holds the host's facts. */
  get guardReady(): boolean {
    return this.#guard.ready;
  }

  /** Every change of desired or observed state becomes its workload's uid in the queue. */
  #watch(): void {
    const { deployments, pods, namespaces } = this.#d;
    const index = this.#index;
    const delay = this.#d.statusDelayMs ?? 100;
    const now = (uid: string | undefined) => uid && this.controller.enqueue(uid);
    const soon = (uid: string | undefined) => uid && this.controller.enqueueAfter(uid, delay);

    this.intents.onChange(now);
    this.intents.onFacts((facts) => this.#guard.learn(facts));

    deployments.onChange((d, previous) => {
      const key = keyOf(d);
      const present = deployments.get(key) !== undefined;
      const uid = present ? d.metadata.labels?.[MEMBER_LABELS.workloadUid] : undefined;
      const before = index.deployments.set(key, uid);
      // Only its status moved (pods coming up): the status can wait for the burst to end.
      const statusOnly = present && previous !== undefined && previous !== d && previous.metadata.generation === d.metadata.generation
        && JSON.stringify(previous.metadata.labels) === JSON.stringify(d.metadata.labels)
        && JSON.stringify(previous.metadata.annotations) === JSON.stringify(d.metadata.annotations);
      const wake = statusOnly ? soon : now;
      wake(uid ?? d.metadata.labels?.[MEMBER_LABELS.workloadUid]);
      if (before !== uid) now(before);
      // The workload whose intent names this Deployment, when it is another's (a name passed on).
      const named = this.intents.uidAt(d.metadata.namespace ?? "", d.metadata.name);
      if (named !== uid) now(named);
    });

    pods.onChange((p) => {
      const key = keyOf(p);
      const uid = pods.get(key) !== undefined ? p.metadata.labels?.[MEMBER_LABELS.workloadUid] : undefined;
      const before = index.pods.set(key, uid);
      soon(uid ?? before);
      if (before !== uid) soon(before);
    });

    namespaces.onChange((n) => {
      const name = n.metadata.name;
      if (namespaces.get(name) === undefined) this.reconciler.forgetNamespace(name);
      for (const uid of this.intents.uidsIn(name)) now(uid);
    });
  }
}
