/**
 * What wakes the workload controllers, declared beside them as controller-runtime's
 * builder does (`For`, `Watches`, predicates, field indexers): which changes matter,
 * mapped to which keys through indexes, never a scan of the store. The reconciles
 * themselves stay level-based on the key.
 */
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import type { Controller, EventSource, IndexedCache, WatchEvent } from "../../runtime/index.ts";
import { workloadKey } from "../../scheduler/index.ts";
import type { ReportEvent } from "../reports.ts";
import { hasFinalizer } from "./finalizer.ts";

/** The workload cache's indexes (client-go Indexers). */
export const WORKLOAD_INDEX = {
  uid: "uid",
  /** The clusters a workload's status names (placed or rejected), and UNSCHEDULED when it is not fully placed. */
  cluster: "cluster",
  policy: "policy",
} as const;

/** The cluster index's value for workloads not fully scheduled: any cluster's change may let them fit. */
export const UNSCHEDULED = "\u0000unscheduled";

const isScheduled = (w: SovereignWorkload) => w.status?.conditions?.find((c) => c.type === "Scheduled")?.status === "True";

export const workloadIndexes: Record<(typeof WORKLOAD_INDEX)[keyof typeof WORKLOAD_INDEX], (w: SovereignWorkload) => readonly string[]> = {
  uid: (w) => (w.metadata.uid ? [w.metadata.uid] : []),
  cluster: (w) => {
    const names = new Set<string>();
    for (const p of w.status?.placements ?? []) names.add(p.cluster);
    for (const r of w.status?.rejectedClusters ?? []) names.add(r.cluster);
    if (!isScheduled(w)) names.add(UNSCHEDULED);
    return [...names];
  },
  policy: (w) => (w.spec.residencyPolicy ? [w.spec.residencyPolicy] : []),
};

export function addWorkloadIndexes(workloads: IndexedCache<SovereignWorkload>): void {
  for (const [name, fn] of Object.entries(workloadIndexes)) workloads.addIndex(name, fn);
}

/**
 * Whether a MemberCluster's change can change a decision: its spec, labels, readiness,
 * room or valid certifications. A heartbeat rewrites lastHeartbeatTime and the Ready
 * condition's message every few seconds; mapping those to every workload placed on the
 * cluster made the queue reconcile each workload about once a second per member for
 * nothing (measured: at 200 workloads the queue wait reached seconds).
 */
export function clusterChangeMatters(previous: MemberCluster | undefined, next: MemberCluster): boolean {
  if (!previous) return true;
  const ready = (c: MemberCluster) => c.status?.conditions?.find((x) => x.type === "Ready")?.status;
  const facts = (c: MemberCluster) => JSON.stringify([
    c.spec, c.metadata.labels ?? {}, c.metadata.deletionTimestamp ?? null, ready(c) ?? null,
    c.status?.allocatable ?? null, c.status?.validCertifications ?? null,
  ]);
  return facts(previous) !== facts(next);
}

/**
 * Whether a workload's change frees room on a member: it is gone, or it holds fewer
 * replicas on some cluster than before (scaled down, moved away, vacated). A workload
 * waiting for room (InsufficientCapacity) may fit then, and nothing else would wake it:
 * the MemberCluster did not change.
 */
export function freesRoom(previous: SovereignWorkload | undefined, next: SovereignWorkload | undefined): boolean {
  const placed = (w: SovereignWorkload | undefined) => new Map((w?.status?.placements ?? []).map((p) => [p.cluster, p.replicas]));
  const after = placed(next);
  for (const [cluster, replicas] of placed(previous)) if ((after.get(cluster) ?? 0) < replicas) return true;
  return false;
}

/** Room was freed by `freed`: every other workload not fully placed, through the index. */
export function workloadsWaitingForRoom(freed: SovereignWorkload, workloads: IndexedCache<SovereignWorkload>): string[] {
  return workloads.byIndex(WORKLOAD_INDEX.cluster, UNSCHEDULED).filter((w) => w.metadata.uid !== freed.metadata.uid).map(workloadKey);
}

/** A MemberCluster changed: every workload placed there or rejected there, and every one not fully placed (it may now fit). */
export function workloadsForCluster(cluster: MemberCluster, workloads: IndexedCache<SovereignWorkload>): string[] {
  const keys = new Set<string>();
  for (const w of workloads.byIndex(WORKLOAD_INDEX.cluster, cluster.metadata.name)) keys.add(workloadKey(w));
  for (const w of workloads.byIndex(WORKLOAD_INDEX.cluster, UNSCHEDULED)) keys.add(workloadKey(w));
  return [...keys];
}

export function workloadsForPolicy(policy: ResidencyPolicy, workloads: IndexedCache<SovereignWorkload>): string[] {
  return workloads.byIndex(WORKLOAD_INDEX.policy, policy.metadata.name).map(workloadKey);
}

/** A member reported a workload's status: its uid maps to one key. */
export function workloadForUid(uid: string, workloads: IndexedCache<SovereignWorkload>): SovereignWorkload | undefined {
  return workloads.byIndex(WORKLOAD_INDEX.uid, uid)[0];
}

/**
 * The resourceVersions this controller's own writes returned, per workload, so their
 * echo through the informer is dropped (Karmada's execution controller does the same).
 * The echo can come through the watch before the write's response: while a write of a
 * key is in flight, its decision-relevant updates are held, and once the write returns
 * those that were its echo are dropped and any other wakes the key. Bounded: a few
 * versions per key, forgotten when seen, after `echoTimeoutMs`, or when the workload goes.
 *
 * It is also the reconciler's read-your-writes check (client-go's "expectations", as the
 * ReplicaSet controller keeps them): until the echo of its last write is in the cache,
 * the cached workload is older than what this controller wrote, and a decision taken from
 * it would put back the placements that write replaced (seen after a NATS outage: members
 * back Ready while a failover's status was still on its way, and the workload flapped
 * between the two placements). `awaitsEcho` says so; `wakeOnEcho` wakes the key when the
 * echo arrives.
 */
export class OwnWrites {
  readonly #written = new Map<string, { rv: string; at: number }[]>();
  readonly #inFlight = new Map<string, number>();
  /** key → resourceVersions of updates held while a write of the key was in flight. */
  readonly #held = new Map<string, Set<string>>();
  /** Keys whose reconcile waits for the echo of this controller's write. */
  readonly #waiting = new Set<string>();
  readonly #now: () => number;
  readonly #echoTimeoutMs: number;
  #wake: (key: string) => void = () => undefined;
  static readonly PER_KEY = 4;

  /**
   * `echoTimeoutMs` bounds how long a write's echo is waited for: a watch that expired and
   * relisted delivers the newest object without the intermediate updates, so an echo may never come.
   */
  constructor(params: { now?: () => number; echoTimeoutMs?: number } = {}) {
    this.#now = params.now ?? Date.now;
    this.#echoTimeoutMs = params.echoTimeoutMs ?? 5_000;
  }

  /** What to call for an update held during a write that turned out not to be its echo, and for an awaited echo. */
  onWake(wake: (key: string) => void): void {
    this.#wake = wake;
  }

  /** Runs a write of `key`, remembering the resourceVersion it returns. */
  async track<T extends { resourceVersion?: string | undefined }>(key: string, write: Promise<T>): Promise<T> {
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    let rv: string | undefined;
    try {
      const result = await write;
      rv = result.resourceVersion;
      return result;
    } finally {
      this.#end(key, rv);
    }
  }

  record(key: string, resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    const list = this.#written.get(key) ?? [];
    list.push({ rv: resourceVersion, at: this.#now() });
    if (list.length > OwnWrites.PER_KEY) list.shift();
    this.#written.set(key, list);
  }

  /** True when `resourceVersion` is one this controller wrote (and forgets it). */
  isEcho(key: string, resourceVersion: string | undefined): boolean {
    const list = this.#written.get(key);
    if (!resourceVersion || !list) return false;
    const i = list.findIndex((w) => w.rv === resourceVersion);
    if (i < 0) return false;
    // Versions before it were superseded: their echoes, if any, come before this one.
    list.splice(0, i + 1);
    if (list.length === 0) {
      this.#written.delete(key);
      if (this.#waiting.delete(key)) this.#wake(key);
    }
    return true;
  }

  /** True while a write of `key` is in flight or its echo is not in the cache yet (within the timeout). */
  awaitsEcho(key: string): boolean {
    if (this.#inFlight.get(key)) return true;
    const list = this.#written.get(key);
    if (!list) return false;
    const fresh = list.filter((w) => this.#now() - w.at < this.#echoTimeoutMs);
    if (fresh.length === 0) this.#written.delete(key);
    else if (fresh.length !== list.length) this.#written.set(key, fresh);
    return fresh.length > 0;
  }

  /** Wakes `key` once the echo it awaits has come (the caller requeues too, for an echo that never comes). */
  wakeOnEcho(key: string): void {
    this.#waiting.add(key);
  }

  /** While a write of `key` is in flight, holds this update instead of passing it; true when held. */
  hold(key: string, resourceVersion: string | undefined): boolean {
    if (!this.#inFlight.get(key) || !resourceVersion) return false;
    const held = this.#held.get(key) ?? new Set<string>();
    held.add(resourceVersion);
    this.#held.set(key, held);
    return true;
  }

  forget(key: string): void {
    this.#written.delete(key);
    this.#held.delete(key);
    this.#waiting.delete(key);
  }

  get size(): number {
    return this.#written.size + this.#held.size + this.#waiting.size;
  }

  #end(key: string, resourceVersion: string | undefined): void {
    const left = (this.#inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.#inFlight.set(key, left);
    else this.#inFlight.delete(key);
    const held = this.#held.get(key);
    if (resourceVersion && held?.has(resourceVersion)) held.delete(resourceVersion);
    else this.record(key, resourceVersion);
    if (left === 0 && !this.#written.has(key) && this.#waiting.delete(key)) this.#wake(key);
    if (left > 0 || !held) return;
    this.#held.delete(key);
    // Anything held that no write of ours returned was someone else's change.
    const others = [...held].filter((rv) => !this.isEcho(key, rv));
    if (others.length > 0) this.#wake(key);
  }
}

/** The placements a decision starts from, as the status lists them. */
const placementsOf = (w: SovereignWorkload) => (w.status?.placements ?? []).map((p) => `${p.cluster}=${p.replicas}`).join(",");

/**
 * Whether an update changes an input of the scheduling decision: the spec (generation),
 * labels and annotations, deletion, finalizers, or the placements the status lists (what
 * the decision starts from). Readiness, counts and conditions are output: another
 * writer (the status aggregator) changing them decides nothing.
 */
export function decisionInputsChanged(previous: SovereignWorkload, next: SovereignWorkload): boolean {
  const a = previous.metadata;
  const b = next.metadata;
  if ((a.generation ?? 0) !== (b.generation ?? 0)) return true;
  if ((a.deletionTimestamp ?? "") !== (b.deletionTimestamp ?? "")) return true;
  if (hasFinalizer(previous) !== hasFinalizer(next)) return true;
  if (JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {})) return true;
  if (JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {})) return true;
  return placementsOf(previous) !== placementsOf(next);
}

/**
 * The scheduling controller's predicate on workload events: creations and deletions
 * pass; an update passes when it is not the echo of this controller's own write and it
 * changes a decision input; a relist announcing an unchanged object does not.
 */
export function schedulingPredicate(ownWrites: OwnWrites): (e: WatchEvent<SovereignWorkload>) => boolean {
  return (e) => {
    if (e.kind === "create" || e.kind === "delete") return true;
    if (e.kind === "resync" || !e.previous) return false;
    const key = workloadKey(e.object);
    if (ownWrites.isEcho(key, e.object.metadata.resourceVersion)) return false;
    if (!decisionInputsChanged(e.previous, e.object)) return false;
    return !ownWrites.hold(key, e.object.metadata.resourceVersion);
  };
}

/**
 * Whether a member's (changed) report is an input of the scheduling decision. Normally
 * not: pods becoming ready is status, which the status aggregator writes. It is while
 * the workload is being deleted (its finalizer waits for members to report removal), and
 * for a cluster the workload is not placed on (being vacated, or running pods it may not:
 * the ResidencyCompliant condition and the vacating list come from those reports).
 */
export function reportWakesScheduling(workload: SovereignWorkload, e: ReportEvent): boolean {
  if (workload.metadata.deletionTimestamp) return true;
  const placed = workload.status?.placements?.find((p) => p.cluster === e.cluster);
  return !placed || placed.replicas === 0;
}

/** The scheduling controller's watches: workloads (own echoes dropped), clusters, policies, and the reports that matter. */
export function watchForScheduling({ controller, workloads, clusters, policies, reports, ownWrites }: {
  controller: Controller;
  workloads: IndexedCache<SovereignWorkload> & EventSource<WatchEvent<SovereignWorkload>>;
  clusters: EventSource<WatchEvent<MemberCluster>>;
  policies: EventSource<WatchEvent<ResidencyPolicy>>;
  reports: EventSource<ReportEvent>;
  ownWrites: OwnWrites;
}): void {
  controller.watch({ source: workloads, predicates: [schedulingPredicate(ownWrites)], map: (e) => [workloadKey(e.object)] });
  ownWrites.onWake((key) => controller.enqueue(key));
  controller.watch({
    source: clusters,
    predicates: [(e) => e.kind !== "resync" && (e.kind !== "update" || clusterChangeMatters(e.previous, e.object))],
    map: (e) => {
      const keys = new Set(workloadsForCluster(e.object, workloads));
      if (e.previous && e.previous !== e.object) for (const k of workloadsForCluster(e.previous, workloads)) keys.add(k);
      return keys;
    },
  });
  controller.watch({ source: policies, predicates: [(e) => e.kind !== "resync"], map: (e) => workloadsForPolicy(e.object, workloads) });
  controller.watch({
    source: workloads,
    predicates: [(e) => (e.kind === "delete" ? freesRoom(e.object, undefined) : e.kind === "update" && freesRoom(e.previous, e.object))],
    map: (e) => workloadsWaitingForRoom(e.object, workloads),
  });
  controller.watch({
    source: reports,
    map: (e) => {
      const w = workloadForUid(e.uid, workloads);
      return w && reportWakesScheduling(w, e) ? [workloadKey(w)] : [];
    },
  });
}

/** The status aggregator's watches: every workload change (cheap: it writes only on change) and every changed report. */
export function watchForStatus({ controller, workloads, reports }: {
  controller: Controller;
  workloads: IndexedCache<SovereignWorkload> & EventSource<WatchEvent<SovereignWorkload>>;
  reports: EventSource<ReportEvent>;
}): void {
  controller.watch({ source: workloads, predicates: [(e) => e.kind !== "delete"], map: (e) => [workloadKey(e.object)] });
  controller.watch({
    source: reports,
    map: (e) => {
      const w = workloadForUid(e.uid, workloads);
      return w ? [workloadKey(w)] : [];
    },
  });
}
