/**
 * The MemberCluster controller's I/O shell: status from the last heartbeat (Ready,
 * lastHeartbeatTime, allocatable, validCertifications) and the mirrored residency labels,
 * each under its own field manager so other writers' labels and conditions stay.
 */
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { MemberCluster } from "../../api/index.ts";
import type { ControlPlaneHostApi } from "../../kube/index.ts";
import { noopSovereignMetrics } from "../../metrics/index.ts";
import type { SovereignMetrics } from "../../metrics/index.ts";
import type { Cache, Clock, Reconciler, Result } from "../../runtime/index.ts";
import { isReservedLabelKey } from "../../scheduler/index.ts";
import type { ReportBook } from "../reports.ts";
import { clusterDesired, type HeartbeatTiming } from "./desired.ts";
import { freshGuardRestores, guardRestoreEventName, guardRestoreMessage } from "./guard-drift.ts";
import { MEMBER_STREAMS_RETRY_MS } from "./member-streams.ts";
import type { MemberStreamsRemoval } from "../../federation/index.ts";

export const CLUSTER_STATUS_FIELD_MANAGER = "sovereign-control-plane";
export const CLUSTER_LABELS_FIELD_MANAGER = "sovereign-control-plane-labels";

/** The Warning Event reason when a heartbeat carries a field the status does not take. */
export const REASON_INVALID_HEARTBEAT = "InvalidHeartbeat";
/** The Warning Event reason when a member's agent restored an edited or deleted object of its residency guard. */
export const REASON_GUARD_RESTORED = "GuardDriftRestored";

export class MemberClusterReconciler implements Reconciler {
  /** What was last reported per cluster, so a member repeating a bad field every beat gives one Event, not one per beat. */
  readonly #reported = new Map<string, string>();
  /** The guard restores the last heartbeat carried, per cluster: each is counted once. */
  readonly #guardRestores = new Map<string, ReadonlySet<string>>();
  readonly #d: {
    clusters: Cache<MemberCluster>;
    host: ControlPlaneHostApi;
    reports: ReportBook;
    ensureMember: (cluster: string) => Promise<void>;
    removeMember?: (cluster: string) => Promise<MemberStreamsRemoval>;
    timing: HeartbeatTiming;
    clock: Clock;
    log: Logger;
    metrics?: SovereignMetrics;
    identity?: string;
  };

  constructor(deps: {
    clusters: Cache<MemberCluster>;
    host: ControlPlaneHostApi;
    reports: ReportBook;
    ensureMember: (cluster: string) => Promise<void>;
    /**
     * Removes a deleted member's streams when nothing needs them any more (see
     * member-streams.ts); absent: they stay.
     */
    removeMember?: (cluster: string) => Promise<MemberStreamsRemoval>;
    timing: HeartbeatTiming;
    clock: Clock;
    log: Logger;
    metrics?: SovereignMetrics;
    /** reportingInstance of its Events; default "control-plane". */
    identity?: string;
  }) {
    this.#d = deps;
  }

  async reconcile(name: string): Promise<Result> {
    const d = this.#d;
    const cluster = d.clusters.get(name);
    if (!cluster) {
      this.#guardRestores.delete(name);
      this.#reported.delete(name);
      return this.#removeStreams(name);
    }
    await d.ensureMember(name);
    const now = d.clock.now();
    const last = d.reports.lastHeartbeat(name);
    const state = clusterDesired({ cluster, last, timing: d.timing, now, feed: d.reports.heartbeatFeed() });
    (d.metrics ?? noopSovereignMetrics).memberHeartbeat({ cluster: name, ageSeconds: last ? (now.getTime() - last.receivedAt.getTime()) / 1000 : undefined, ready: state.ready });
    await this.#reportRejected(cluster, state.rejected.map((r) => `${r.field}: ${r.reason}`).join("; "), now);
    if (last) await this.#reportGuardDrift(cluster, last.heartbeat.guardDrift, now);
    const ours = Object.fromEntries(Object.entries(cluster.metadata.labels ?? {}).filter(([k]) => isReservedLabelKey(k)));
    if (!isDeepStrictEqual(ours, state.labels)) {
      await d.host.applyMemberClusterLabels({ name, labels: state.labels, fieldManager: CLUSTER_LABELS_FIELD_MANAGER });
    }
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(cluster.status ?? {})), JSON.parse(JSON.stringify(state.status)))) {
      await d.host.applyMemberClusterStatus({ name, status: state.status, fieldManager: CLUSTER_STATUS_FIELD_MANAGER });
    }
    return state.requeueAfterMs !== undefined ? { requeueAfterMs: state.requeueAfterMs + 1 } : {};
  }

  /** A deleted member: its streams go when nothing needs them; until then it is looked at again every 30 s. */
  async #removeStreams(name: string): Promise<Result> {
    if (!this.#d.removeMember) return {};
    const done = await this.#d.removeMember(name);
    if (done === "removed") this.#d.log.info({ cluster: name }, "removed the NATS streams of a deleted member");
    // Removed, or none to remove (a deleted member whose agent still sends heartbeats comes back here at each one).
    if (done === "removed" || done === "absent") return {};
    this.#d.log.debug({ cluster: name, waitingFor: done }, "keeping the NATS streams of a deleted member for now");
    return { requeueAfterMs: MEMBER_STREAMS_RETRY_MS };
  }

  /**
   * Someone on the member edited or deleted the residency guard's objects and the agent
   * put them back: an Event per restore and the drift counter. After a restart of the
   * control plane, restores still carried by heartbeats (the agent keeps them a minute)
   * are seen again: the Event, named after the restore, is not recorded twice; the
   * counter, per process, counts them again.
   */
  async #reportGuardDrift(cluster: MemberCluster, reported: Parameters<typeof freshGuardRestores>[0]["reported"], now: Date): Promise<void> {
    const name = cluster.metadata.name;
    const { fresh, seen } = freshGuardRestores({ reported, seen: this.#guardRestores.get(name) ?? new Set() });
    this.#guardRestores.set(name, seen);
    if (fresh.length === 0) return;
    (this.#d.metrics ?? noopSovereignMetrics).guardDrift({ cluster: name, restored: fresh.length });
    for (const r of fresh) {
      this.#d.log.warn({ cluster: name, object: r.object, change: r.change, restoredAt: r.restoredAt }, "the member's residency guard was tampered with; its agent restored it");
      await this.#d.host.createEvent({
        involved: { kind: "MemberCluster", name, ...(cluster.metadata.uid ? { uid: cluster.metadata.uid } : {}) },
        name: guardRestoreEventName({ cluster: name, ...r }),
        type: "Warning", reason: REASON_GUARD_RESTORED,
        message: guardRestoreMessage(r),
        reportingController: CLUSTER_STATUS_FIELD_MANAGER, reportingInstance: this.#d.identity ?? "control-plane", at: now,
      }).catch((err: unknown) => this.#d.log.warn({ err, cluster: name }, "could not record an Event"));
    }
  }

  async #reportRejected(cluster: MemberCluster, message: string, now: Date): Promise<void> {
    const name = cluster.metadata.name;
    if (message === "") {
      this.#reported.delete(name);
      return;
    }
    if (this.#reported.get(name) === message) return;
    this.#reported.set(name, message);
    this.#d.log.warn({ cluster: name, rejected: message }, "heartbeat fields refused; the rest of the status is kept up to date");
    await this.#d.host.createEvent({
      involved: { kind: "MemberCluster", name, ...(cluster.metadata.uid ? { uid: cluster.metadata.uid } : {}) },
      type: "Warning", reason: REASON_INVALID_HEARTBEAT, message: `heartbeat fields not taken: ${message}`,
      reportingController: CLUSTER_STATUS_FIELD_MANAGER, reportingInstance: this.#d.identity ?? "control-plane", at: now,
    }).catch((err: unknown) => this.#d.log.warn({ err, cluster: name }, "could not record an Event"));
  }
}
