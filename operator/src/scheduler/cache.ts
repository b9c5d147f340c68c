// The scheduler's view of the federation between decisions, after Karmada's
// pkg/scheduler/cache: the objects come from the control plane's informers (read through
// a structural interface, so the scheduler does not depend on runtime/), and the
// placements just decided but not yet visible in a workload's status are "assumed", so
// that the next decision already counts the capacity they take.
//
// What each cluster has used is kept up to date incrementally, per workload: an informer
// change or an assume() moves that one workload's share, so a decision reads per-cluster
// totals (O(clusters)) instead of walking every workload and parsing its pod requests.
//
// Why that is enough against double-booking: JavaScript runs one decision at a time. A
// worker that plans and then calls assume() with no await between them has its
// placements counted before any other worker's planning can run.
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { podRequests, workloadKey, type PodRequests } from "./adapt.ts";
import type { CurrentPlacement, Resources } from "./core/index.ts";
import { policyOf } from "./decide-workload.ts";
import { planWorkload, type WorkloadDecision } from "./planning/index.ts";

/** What an informer's cache offers; keys are "name", or "namespace/name" for workloads. */
export interface Lister<T> {
  list(): readonly T[];
  get(key: string): T | undefined;
}

/**
 * A Lister that says when an object changed (or went: then `get` no longer has it). The
 * control plane's informers are; a plain Lister must be told through observe().
 */
export interface WatchedLister<T> extends Lister<T> {
  onChange?(handler: (obj: T, previous: T | undefined) => void): void;
}

/** How long an assumed placement counts when the workload's status never shows it (a lost write, a crashed agent). */
export const DEFAULT_ASSUME_TTL_MS = 60_000;

/** A workload the cache does not hold: it was deleted, or the informer has not seen it yet. */
export class WorkloadNotCachedError extends Error {
  override readonly name = "WorkloadNotCachedError";
  readonly retryable = true;
  readonly workload: string;
  constructor(workload: string) {
    super(`SovereignWorkload ${workload} is not in the scheduler cache`);
    this.workload = workload;
  }
}

/** Same clusters with the same replicas (zero entries ignored), whatever the order. */
function samePlacements(a: readonly CurrentPlacement[], b: readonly CurrentPlacement[]): boolean {
  const count = (ps: readonly CurrentPlacement[]) => {
    const m = new Map<string, number>();
    for (const p of ps) if (p.replicas > 0) m.set(p.cluster, (m.get(p.cluster) ?? 0) + p.replicas);
    return m;
  };
  const x = count(a);
  const y = count(b);
  return x.size === y.size && [...x].every(([cluster, n]) => y.get(cluster) === n);
}

const nonZero = (ps: readonly CurrentPlacement[]): CurrentPlacement[] => ps.filter((p) => p.replicas > 0).map((p) => ({ cluster: p.cluster, replicas: p.replicas }));

/** One workload's share of the clusters, as counted in the totals. */
interface Share {
  /** What one replica requests; read again only when the spec's generation moves. */
  per: PodRequests;
  generation: number | undefined;
  /** status.placements with replicas. */
  status: readonly CurrentPlacement[];
  assumed?: { placements: readonly CurrentPlacement[]; expires: number };
  /** What is in the totals for this workload right now: subtracted exactly when it changes. */
  counted: readonly CurrentPlacement[];
}

export class SchedulerCache {
  readonly #clusters: Lister<MemberCluster>;
  readonly #policies: Lister<ResidencyPolicy>;
  readonly #workloads: Lister<SovereignWorkload>;
  readonly #ttlMs: number;
  readonly #shares = new Map<string, Share>();
  /** cluster → what every workload's counted placements take there; a cluster at zero leaves. */
  readonly #used = new Map<string, Resources>();
  /** Workloads with an assumed placement, and the earliest instant one of them expires. */
  readonly #assumed = new Set<string>();
  #nextExpiry = Infinity;

  constructor({ clusters, policies, workloads, assumeTtlMs = DEFAULT_ASSUME_TTL_MS }: {
    clusters: Lister<MemberCluster>;
    policies: Lister<ResidencyPolicy>;
    workloads: WatchedLister<SovereignWorkload>;
    assumeTtlMs?: number;
  }) {
    this.#clusters = clusters;
    this.#policies = policies;
    this.#workloads = workloads;
    this.#ttlMs = assumeTtlMs;
    for (const w of workloads.list()) this.observe(workloadKey(w));
    workloads.onChange?.((w) => this.observe(workloadKey(w)));
  }

  /**
   * Reads the workload `key` again from the lister and moves its share of the totals:
   * level-based, so an add, an update, a delete and a resync are all the same call.
   * An assumed placement goes once the status shows it.
   */
  observe(key: string): void {
    const w = this.#workloads.get(key);
    const had = this.#shares.get(key);
    if (!w) {
      if (had) this.#count(had.counted, had.per, -1);
      this.#shares.delete(key);
      this.#assumed.delete(key);
      return;
    }
    const generation = w.metadata.generation;
    const per = had && generation !== undefined && had.generation === generation ? had.per : perReplicaOf(w);
    const share: Share = { per, generation, status: nonZero(w.status?.placements ?? []), counted: had?.counted ?? [] };
    if (had?.assumed && !samePlacements(share.status, had.assumed.placements)) share.assumed = had.assumed;
    this.#recount(key, share, had);
  }

  /** Counts `placements` as the workload's until its status shows them, it is gone, or the TTL passes. */
  assume({ workload, placements, now }: { workload: string; placements: readonly CurrentPlacement[]; now: number }): void {
    if (!this.#shares.has(workload)) this.observe(workload);
    const had = this.#shares.get(workload);
    if (!had) return; // not (or no longer) a workload: nothing to count
    const { assumed: _old, ...rest } = had;
    const share: Share = samePlacements(had.status, placements) ? rest : { ...rest, assumed: { placements: nonZero(placements), expires: now + this.#ttlMs } };
    this.#recount(workload, share, had);
  }

  /** Drops the workload's assumed placements (e.g. its intents could not be published). */
  forget(workload: string): void {
    const had = this.#shares.get(workload);
    if (!had?.assumed) return;
    const { assumed: _old, ...rest } = had;
    this.#recount(workload, rest, had);
  }

  /** The workload's assumed placements still in force at `now`, if any. */
  assumedPlacements({ workload, now }: { workload: string; now: number }): readonly CurrentPlacement[] | undefined {
    this.#expire(now);
    return this.#shares.get(workload)?.assumed?.placements;
  }

  /**
   * What the OTHER workloads take on each cluster at `now` (their assumed placements, or
   * their status): the totals less this workload's own share. O(clusters).
   */
  usedByOthers({ workload, now }: { workload: string; now: number }): Map<string, Resources> {
    this.#expire(now);
    const used = new Map<string, Resources>();
    for (const [cluster, u] of this.#used) used.set(cluster, { ...u });
    const own = this.#shares.get(workload);
    if (own) {
      for (const p of own.counted) {
        const u = used.get(p.cluster);
        if (!u) continue;
        u.cpuMilli -= own.per.cpuMilli * p.replicas;
        u.memoryBytes -= own.per.memoryBytes * p.replicas;
        u.pods -= p.replicas;
      }
    }
    return used;
  }

  /** The planned decision for a cached workload, against the cached clusters and the others' usage. */
  plan({ workload, now }: { workload: string; now: number }): WorkloadDecision {
    const object = this.#workloads.get(workload);
    if (!object) throw new WorkloadNotCachedError(workload);
    return planWorkload({
      workload: object,
      policy: policyOf({ workload: object, policies: this.#policies }),
      clusters: this.#clusters.list(),
      used: this.usedByOthers({ workload, now }),
      now,
    });
  }

  /** Replaces `had` by `share` in the totals. */
  #recount(key: string, share: Share, had: Share | undefined): void {
    if (had) this.#count(had.counted, had.per, -1);
    share.counted = share.assumed?.placements ?? share.status;
    this.#count(share.counted, share.per, 1);
    this.#shares.set(key, share);
    if (share.assumed) {
      this.#assumed.add(key);
      if (share.assumed.expires < this.#nextExpiry) this.#nextExpiry = share.assumed.expires;
    } else {
      this.#assumed.delete(key);
    }
  }

  #count(placements: readonly CurrentPlacement[], per: PodRequests, sign: 1 | -1): void {
    for (const p of placements) {
      const u = this.#used.get(p.cluster) ?? { cpuMilli: 0, memoryBytes: 0, pods: 0 };
      u.cpuMilli += sign * per.cpuMilli * p.replicas;
      u.memoryBytes += sign * per.memoryBytes * p.replicas;
      u.pods += sign * p.replicas;
      if (u.pods <= 0 && u.cpuMilli <= 0 && u.memoryBytes <= 0) this.#used.delete(p.cluster);
      else this.#used.set(p.cluster, u);
    }
  }

  /** Assumed placements past their TTL stop counting; the status counts again. Only walks them when one is due. */
  #expire(now: number): void {
    if (now < this.#nextExpiry) return;
    let next = Infinity;
    for (const key of [...this.#assumed]) {
      const share = this.#shares.get(key);
      if (!share?.assumed) {
        this.#assumed.delete(key);
        continue;
      }
      if (now >= share.assumed.expires) {
        const { assumed: _old, ...rest } = share;
        this.#recount(key, rest, share);
      } else if (share.assumed.expires < next) {
        next = share.assumed.expires;
      }
    }
    this.#nextExpiry = next;
  }
}

/**
 * What one replica requests. An unreadable quantity (the API server's pattern refuses
 * them, but a stored object predates it) counts as none here: the workload's own
 * decision fails on it, and the other workloads must not fail with it.
 */
function perReplicaOf(w: SovereignWorkload): PodRequests {
  try {
    return podRequests(w.spec.template.spec);
  } catch {
    return { cpuMilli: 0, memoryBytes: 0 };
  }
}
