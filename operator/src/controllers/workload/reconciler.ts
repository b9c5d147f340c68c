/**
 * The workload controller's I/O shell, level-based: read the caches, run the pure
 * desired step, then act in an order that survives a crash at any point: finalizer
 * first; audit records before the status write (ids derived from what the change is
 * based on, so a retry is stored once); status by server-side apply; intents last,
 * a vacated cluster staying in status until its zero intent is acknowledged.
 */
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import type { IntentPublisher, PlacementIntent } from "../../federation/index.ts";
import type { ControlPlaneHostApi } from "../../kube/index.ts";
import { NotFoundError } from "../../kube/index.ts";
import { noopSovereignMetrics } from "../../metrics/index.ts";
import type { SovereignMetrics } from "../../metrics/index.ts";
import type { Cache, Clock, Reconciler, Result } from "../../runtime/index.ts";
import { PolicyNotFoundError, workloadKey } from "../../scheduler/index.ts";
import type { SchedulerCache } from "../../scheduler/index.ts";
import type { ReportBook } from "../reports.ts";
import { desired } from "./desired.ts";
import { deletionPlan, hasFinalizer, MEMBER_CLEANUP_FINALIZER } from "./finalizer.ts";
import { workloadRef } from "./records.ts";

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
}

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
    const uid = workload.metadata.uid ?? "";
    const now = d.clock.now();
    const namespace = workload.metadata.namespace ?? "default";
    const name = workload.metadata.name;

    if (workload.metadata.deletionTimestamp) {
      this.#metrics.workloadUnschedulable({ namespace, name, unschedulable: false });
      return this.#delete(workload);
    }
    if (!hasFinalizer(workload)) {
      await d.host.setSovereignWorkloadFinalizers({ namespace, name, finalizers: [...(workload.metadata.finalizers ?? []), MEMBER_CLEANUP_FINALIZER], resourceVersion: workload.metadata.resourceVersion ?? "" });
      // Go on deciding in this same pass: the finalizer is on the server now (the write was
      // conditional on this resourceVersion), and waiting for the update to come back
      // through the informer and the queue cost a whole queue wait per new workload.
    }
    const policyName = workload.spec.residencyPolicy;
    const policy = policyName === undefined ? undefined : d.policies.get(policyName);
    if (policyName !== undefined && !policy) throw new PolicyNotFoundError(key, policyName);

    const started = performance.now();
    const state = desired({
      workload, policy, clusters: d.clusters.list(), reports: d.reports.reportsOf(uid), used: d.scheduler.usedByOthers({ workload: key, now: now.getTime() }),
      now, decidedBy: `control-plane/${d.identity}`, removalAcknowledged: this.#acknowledgedRemovals(uid),
    });
    const scheduled = state.status.conditions?.find((c) => c.type === "Scheduled");
    this.#metrics.decision({ seconds: (performance.now() - started) / 1000, scheduled: scheduled?.status === "True", rejectedReasons: (state.status.rejectedClusters ?? []).flatMap((r) => r.reasons) });
    this.#metrics.workloadUnschedulable({ namespace, name, unschedulable: scheduled?.status !== "True" });
    d.scheduler.assume({ workload: key, placements: state.placements, now: now.getTime() });

    for (const record of state.audit) await d.publisher.publishAudit(record);
    if (!isDeepStrictEqual(normalise(workload.status), normalise(state.status))) {
      await d.host.applySovereignWorkloadStatus({ namespace, name, status: state.status, fieldManager: WORKLOAD_FIELD_MANAGER });
    }
    const vacating = await this.#publish(uid, state.intents);
    for (const f of state.holders.filter((h) => h.state === "Lost")) {
      if (state.placements.every((p) => p.cluster !== f.cluster)) this.#metrics.failover({ fromCluster: f.cluster, country: f.country });
    }
    await Promise.all(state.events.map((e) =>
      d.host.createEvent({
        involved: { kind: "SovereignWorkload", name, namespace, uid, ...(workload.metadata.resourceVersion ? { resourceVersion: workload.metadata.resourceVersion } : {}) },
        type: e.type, reason: e.reason, message: e.message, reportingController: WORKLOAD_FIELD_MANAGER, reportingInstance: d.identity, at: now,
      }).catch((err: unknown) => d.log.warn({ err, workload: key, reason: e.reason }, "could not record an Event"))));
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

  async #delete(workload: SovereignWorkload): Promise<Result> {
    const d = this.#d;
    const uid = workload.metadata.uid ?? "";
    if (!hasFinalizer(workload)) return {};
    const now = d.clock.now();
    const clusters = new Map(d.clusters.list().map((c) => [c.metadata.name, c]));
    const acknowledged = this.#acknowledgedRemovals(uid);
    const plan = deletionPlan({ workload, clusters, reports: d.reports.reportsOf(uid), acknowledged });
    const generation = workload.metadata.generation ?? 0;
    for (const cluster of plan.publishZeroTo) {
      const intent: PlacementIntent = {
        intentId: `intent:${cluster}:${uid}:g${generation}:deleted`, workload: workloadRef(workload), generation, cluster, replicas: 0,
        podTemplate: undefined, residency: undefined, residencyPolicy: workload.spec.residencyPolicy ?? "", decidedAt: now, requirements: undefined, podSecurity: undefined,
      };
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
      await d.host.setSovereignWorkloadFinalizers({
        namespace: workload.metadata.namespace ?? "default", name: workload.metadata.name,
        finalizers: (workload.metadata.finalizers ?? []).filter((f) => f !== MEMBER_CLEANUP_FINALIZER), resourceVersion: workload.metadata.resourceVersion ?? "",
      });
    } catch (err) {
      // Gone already (a second pass over the same deletion): what this pass wanted.
      if (!(err instanceof NotFoundError)) throw err;
    }
    this.#published.delete(uid);
    return {};
  }
}

/** Status as compared for "needs a write": the API server drops undefined fields. */
function normalise(status: SovereignWorkload["status"]): unknown {
  return JSON.parse(JSON.stringify(status ?? {}));
}
