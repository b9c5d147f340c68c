/**
 * The workload controller's I/O shell, level-based: read the caches, run the pure
 * desired step, then act in an order that survives a crash at any point, with what
 * does not depend on each other side by side: the finalizer together with the audit
 * records (both before anything a member or a user sees); audit before the status write
 * that shows it (ids derived from what the change is based on, so a retry is stored
 * once); the status by server-side apply together with the intents to clusters the
 * status already lists; intents to new clusters after the status names them, so a crash
 * never leaves a Deployment the status does not list; a vacated cluster stays in status
 * until its zero intent is acknowledged. Events go to a recorder and never hold a worker.
 * Each write's resourceVersion is remembered so its echo does not wake this controller.
 */
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import type { IntentPublisher, PlacementIntent } from "../../federation/index.ts";
import type { ControlPlaneHostApi, HostEvent, Written } from "../../kube/index.ts";
import { NotFoundError } from "../../kube/index.ts";
import { noopSovereignMetrics } from "../../metrics/index.ts";
import type { SovereignMetrics } from "../../metrics/index.ts";
import type { Cache, Clock, EventRecorder, RecordedEvent, Reconciler, Result } from "../../runtime/index.ts";
import { workloadKey } from "../../scheduler/index.ts";
import type { SchedulerCache } from "../../scheduler/index.ts";
import type { ReportBook } from "../reports.ts";
import { desired } from "./desired.ts";
import { deletionPlan, hasFinalizer, MEMBER_CLEANUP_FINALIZER } from "./finalizer.ts";
import { zeroIntent } from "./records.ts";
import type { ReconcilesToReady } from "./status-aggregator.ts";
import { WorkloadReason } from "./status.ts";
import type { OwnWrites } from "./watches.ts";

export const WORKLOAD_FIELD_MANAGER = "sovereign-control-plane";

export interface WorkloadReconcilerDeps {
  workloads: Cache<SovereignWorkload>;
  clusters: Cache<MemberCluster>;
  policies: Cache<ResidencyPolicy>;
  scheduler: SchedulerCache;
  host: ControlPlaneHostApi;
  publisher: IntentPublisher;
  reports: ReportBook;
  /** Makes sure a member's intents stream exists before its first intent. */
  ensureMember: (cluster: string) => Promise<void>;
  clock: Clock;
  log: Logger;
  metrics?: SovereignMetrics;
  /** This control plane's identity (the Lease holder), for decided_by. */
  identity: string;
  /** Where the resourceVersions of this controller's writes go, so their echo is dropped. */
  ownWrites?: OwnWrites;
  /** Events, fire-and-forget; without one they are written directly (tests). */
  recorder?: EventRecorder<WorkloadEventRecord>;
  /** Counts scheduling reconciles per workload until Ready. */
  toReady?: ReconcilesToReady;
}

/** An Event as the workload controller hands it to the recorder. */
export type WorkloadEventRecord = RecordedEvent & { host: Omit<HostEvent, "type" | "reason" | "message" | "at" | "count"> };

/** How long a reconcile waiting for its own write's echo waits at most before it looks again (the echo itself wakes it sooner). */
const ECHO_WAIT_MS = 1_000;

/** What was last published per (workload uid, cluster): the same intent is not sent twice. */
const signatureOf = (i: PlacementIntent) => JSON.stringify([i.generation, i.replicas, i.podTemplate, i.requirements, i.residencyPolicy, i.residency]);

export class WorkloadReconciler implements Reconciler {
  readonly #d: WorkloadReconcilerDeps;
  readonly #metrics: SovereignMetrics;
  /** uid → cluster → signature. In memory: after a restart everything is re-published once. */
  readonly #published = new Map<string, Map<string, string>>();

  constructor(deps: WorkloadReconcilerDeps) {
    this.#d = deps;
    this.#metrics = deps.metrics ?? noopSovereignMetrics;
  }

  async reconcile(key: string): Promise<Result> {
    const d = this.#d;
    const workload = d.workloads.get(key);
    if (!workload) {
      // Gone: it no longer counts as unschedulable (the gauge is a count of live workloads).
      const [namespace = "", name = ""] = key.split("/");
      this.#metrics.workloadUnschedulable({ namespace, name, unschedulable: false });
      return {};
    }
    // Read your writes: the cache does not hold this controller's last write of the
    // workload yet, so deciding now would start from placements that write replaced.
    if (d.ownWrites?.awaitsEcho(key)) {
      d.ownWrites.wakeOnEcho(key);
      return { requeueAfterMs: ECHO_WAIT_MS };
    }
    const uid = workload.metadata.uid ?? "";
    const now = d.clock.now();
    const namespace = workload.metadata.namespace ?? "default";
    const name = workload.metadata.name;

    if (workload.metadata.deletionTimestamp) {
      this.#metrics.workloadUnschedulable({ namespace, name, unschedulable: false });
      return this.#delete(workload);
    }
    d.toReady?.scheduled(uid);
    const policyName = workload.spec.residencyPolicy;
    const policy = policyName === undefined ? undefined : d.policies.get(policyName);

    const started = performance.now();
    const state = desired({
      workload, policy, clusters: d.clusters.list(), reports: d.reports.reportsOf(uid), used: d.scheduler.usedByOthers({ workload: key, now: now.getTime() }),
      now, decidedBy: `control-plane/${d.identity}`, removalAcknowledged: this.#acknowledgedRemovals(uid),
    });
    const scheduled = state.status.conditions?.find((c) => c.type === "Scheduled");
    // A missing policy is not a decision: nothing was weighed, so nothing is counted as one.
    if (scheduled?.reason !== WorkloadReason.PolicyNotFound) {
      this.#metrics.decision({ seconds: (performance.now() - started) / 1000, scheduled: scheduled?.status === "True", rejectedReasons: (state.status.rejectedClusters ?? []).flatMap((r) => r.reasons) });
    }
    this.#metrics.workloadUnschedulable({ namespace, name, unschedulable: scheduled?.status !== "True" });
    d.scheduler.assume({ workload: key, placements: state.placements, now: now.getTime() });

    // The finalizer and the audit records side by side: both must be stored before the
    // status or a member shows the placement, neither needs the other. The finalizer
    // write is conditional on the resourceVersion decided on.
    const finalizer = hasFinalizer(workload) ? Promise.resolve() : this.#tracked(key, d.host.setSovereignWorkloadFinalizers({
      namespace, name, finalizers: [...(workload.metadata.finalizers ?? []), MEMBER_CLEANUP_FINALIZER], resourceVersion: workload.metadata.resourceVersion ?? "",
    }));
    // Called in order, so each chain takes them in order, and together, so the ledger
    // appends them in one batch (one fsync) rather than one round trip each.
    const audit = Promise.all(state.audit.map((record) => d.publisher.publishAudit(record)));
    // Where a reconcile's time goes, for --log-level debug: each step ends when its slowest write does.
    const steps: Record<string, number> = {};
    const lap = (step: string, from: number) => (steps[step] = Math.round(performance.now() - from));
    let t = performance.now();
    await settleAll([finalizer, audit]);
    lap("finalizerAndAuditMs", t);

    // The status together with the intents to clusters it already lists (a crash in between
    // leaves them listed, so they are cleaned up); intents to clusters it does not list yet
    // wait for the status that names them.
    const listed = new Set((workload.status?.placements ?? []).map((p) => p.cluster));
    const needsStatus = !isDeepStrictEqual(normalise(workload.status), normalise(state.status));
    const status = needsStatus
      ? this.#tracked(key, d.host.applySovereignWorkloadStatus({ namespace, name, status: state.status, fieldManager: WORKLOAD_FIELD_MANAGER }))
      : Promise.resolve();
    const known = this.#publish(uid, state.intents.filter((i) => listed.has(i.cluster)));
    t = performance.now();
    const [, vacatingKnown] = await settleAll([status, known]);
    lap("statusMs", t);
    t = performance.now();
    const vacatingNew = await this.#publish(uid, state.intents.filter((i) => !listed.has(i.cluster)));
    lap("newIntentsMs", t);
    if (d.log.isLevelEnabled("debug")) {
      const created = Date.parse(workload.metadata.creationTimestamp ?? "");
      d.log.debug({
        workload: key, generation: workload.metadata.generation, audit: state.audit.length, intents: state.intents.length, ...steps,
        totalMs: Math.round(performance.now() - started), ...(Number.isFinite(created) ? { sinceCreatedMs: now.getTime() - created } : {}),
      }, "scheduled");
    }
    const vacating = vacatingKnown || vacatingNew;
    if (state.status.conditions?.find((c) => c.type === "Ready")?.status === "True") d.toReady?.ready(uid);
    for (const f of state.holders.filter((h) => h.state === "Lost")) {
      if (state.placements.every((p) => p.cluster !== f.cluster)) this.#metrics.failover({ fromCluster: f.cluster, country: f.country });
    }
    const involved = { kind: "SovereignWorkload" as const, name, namespace, uid, ...(workload.metadata.resourceVersion ? { resourceVersion: workload.metadata.resourceVersion } : {}) };
    for (const e of state.events) {
      const host = { involved, reportingController: WORKLOAD_FIELD_MANAGER, reportingInstance: d.identity };
      if (d.recorder) d.recorder.record({ about: uid, type: e.type, reason: e.reason, message: e.message, host });
      else await d.host.createEvent({ ...host, type: e.type, reason: e.reason, message: e.message, at: now }).catch((err: unknown) => d.log.warn({ err, workload: key, reason: e.reason }, "could not record an Event"));
    }
    // A vacated cluster leaves the status on the next pass, now that its removal is acknowledged.
    const next = vacating ? 500 : state.requeueAfterMs;
    return next !== undefined ? { requeueAfterMs: next } : {};
  }

  /** Publishes what changed; returns true when a zero intent was acknowledged now. */
  async #publish(uid: string, intents: readonly PlacementIntent[]): Promise<boolean> {
    const sent = this.#published.get(uid) ?? new Map<string, string>();
    this.#published.set(uid, sent);
    let vacated = false;
    // One subject per cluster: the clusters' intents are independent and go out side by side.
    await Promise.all(intents.map(async (intent) => {
      const signature = signatureOf(intent);
      if (sent.get(intent.cluster) === signature) return;
      await this.#d.ensureMember(intent.cluster);
      this.#d.reports.intentPublished(intent);
      await this.#d.publisher.publishIntent(intent);
      sent.set(intent.cluster, signature);
      if (intent.replicas === 0) vacated = true;
    }));
    return vacated;
  }

  #acknowledgedRemovals(uid: string): Set<string> {
    const sent = this.#published.get(uid);
    return new Set([...(sent ?? [])].filter(([, s]) => (JSON.parse(s) as unknown[])[1] === 0).map(([c]) => c));
  }

  /** A write whose echo this controller will not be woken by. */
  async #tracked(key: string, write: Promise<Written>): Promise<void> {
    if (this.#d.ownWrites) await this.#d.ownWrites.track(key, write);
    else await write;
  }

  /** The workload is gone from the host: what was kept about it goes too. */
  forget(uid: string): void {
    this.#published.delete(uid);
  }

  /** Workloads with published signatures held (for tests and memory checks). */
  get remembered(): number {
    return this.#published.size;
  }

  async #delete(workload: SovereignWorkload): Promise<Result> {
    const d = this.#d;
    const uid = workload.metadata.uid ?? "";
    if (!hasFinalizer(workload)) return {};
    const now = d.clock.now();
    const clusters = new Map(d.clusters.list().map((c) => [c.metadata.name, c]));
    const acknowledged = this.#acknowledgedRemovals(uid);
    const plan = deletionPlan({ workload, clusters, reports: d.reports.reportsOf(uid), acknowledged });
    for (const cluster of plan.publishZeroTo) {
      const intent = zeroIntent({ workload, cluster, now, why: "deleted" });
      await d.ensureMember(cluster);
      d.reports.intentPublished(intent);
      await d.publisher.publishIntent(intent);
      const sent = this.#published.get(uid) ?? new Map<string, string>();
      sent.set(cluster, signatureOf(intent));
      this.#published.set(uid, sent);
    }
    const after = deletionPlan({ workload, clusters, reports: d.reports.reportsOf(uid), acknowledged: this.#acknowledgedRemovals(uid) });
    if (!after.mayRemoveFinalizer) {
      d.log.debug({ workload: workloadKey(workload), waitingFor: after.waitingFor }, "waiting for members to remove the workload");
      return { requeueAfterMs: 1000 };
    }
    try {
      await this.#tracked(workloadKey(workload), d.host.setSovereignWorkloadFinalizers({
        namespace: workload.metadata.namespace ?? "default", name: workload.metadata.name,
        finalizers: (workload.metadata.finalizers ?? []).filter((f) => f !== MEMBER_CLEANUP_FINALIZER), resourceVersion: workload.metadata.resourceVersion ?? "",
      }));
    } catch (err) {
      // Gone already (a second pass over the same deletion): what this pass wanted.
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.#published.delete(uid);
    return {};
  }
}

/**
 * Waits for every step, then throws the first failure: a step that failed must not leave
 * its sibling running unobserved, and a sibling's success (an audit record stored) stands.
 */
async function settleAll<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Status as compared for "needs a write": the API server drops undefined fields. */
function normalise(status: SovereignWorkload["status"]): unknown {
  return JSON.parse(JSON.stringify(status ?? {}));
}
