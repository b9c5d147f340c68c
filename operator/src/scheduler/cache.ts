// The scheduler's view of the federation between decisions, after Karmada's
// pkg/scheduler/cache: the objects come from the control plane's informers (read through
// a structural interface, so the scheduler does not depend on runtime/), and the
// placements just decided but not yet visible in a workload's status are "assumed", so
// that the next decision already counts the capacity they take.
//
// Why that is enough against double-booking: JavaScript runs one decision at a time. A
// worker that calls decide() and then assume() with no await between them has its
// placements counted before any other worker's decide() can run.
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { workloadKey } from "./adapt.ts";
import type { CurrentPlacement, Decision } from "./core/index.ts";
import { decideWorkload, schedulingInputsOf, type WorkloadDecisionInput } from "./decide-workload.ts";

/** What an informer's cache offers; keys are "name", or "namespace/name" for workloads. */
export interface Lister<T> {
  list(): readonly T[];
  get(key: string): T | undefined;
}

/** How long an assumed placement counts when the workload's status never shows it (a lost write, a crashed agent). */
export const DEFAULT_ASSUME_TTL_MS = 60_000;

interface Assumed {
  placements: readonly CurrentPlacement[];
  /** Epoch ms after which the entry is dropped. */
  expires: number;
}

/** What a decision through the cache takes besides what the cache holds. */
export type CacheDecisionInput = Omit<WorkloadDecisionInput, "workload" | "clusters" | "policies" | "workloads" | "assumed"> & {
  /** The workload, or its "namespace/name" key to read it from the cache. */
  workload: SovereignWorkload | string;
};

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

export class SchedulerCache {
  readonly #clusters: Lister<MemberCluster>;
  readonly #policies: Lister<ResidencyPolicy>;
  readonly #workloads: Lister<SovereignWorkload>;
  readonly #ttlMs: number;
  readonly #assumed = new Map<string, Assumed>();

  constructor({ clusters, policies, workloads, assumeTtlMs = DEFAULT_ASSUME_TTL_MS }: {
    clusters: Lister<MemberCluster>;
    policies: Lister<ResidencyPolicy>;
    workloads: Lister<SovereignWorkload>;
    assumeTtlMs?: number;
  }) {
    this.#clusters = clusters;
    this.#policies = policies;
    this.#workloads = workloads;
    this.#ttlMs = assumeTtlMs;
  }

  /**
   * Decides one workload against the cached objects, counting the other workloads'
   * assumed placements instead of their status. Its own current placements default to
   * its assumed ones (newer than its status), so stable placement keeps what was just
   * decided. Does not assume: call assume() with what you will act on, before any await.
   */
  decide(input: CacheDecisionInput): Decision {
    return decideWorkload(this.#inputOf(input));
  }

  /** The core's inputs behind decide(), for mustEvict and nextDecisionChange. */
  inputsOf(input: CacheDecisionInput): ReturnType<typeof schedulingInputsOf> {
    return schedulingInputsOf(this.#inputOf(input));
  }

  /** Counts `placements` as the workload's until its status shows them, it is gone, or the TTL passes. */
  assume({ workload, placements, now }: { workload: string; placements: readonly CurrentPlacement[]; now: number }): void {
    this.#assumed.set(workload, { placements: placements.map((p) => ({ cluster: p.cluster, replicas: p.replicas })), expires: now + this.#ttlMs });
  }

  /** Drops the workload's assumed placements (e.g. its intents could not be published). */
  forget(workload: string): void {
    this.#assumed.delete(workload);
  }

  /** The workload's assumed placements still in force at `now`, if any. */
  assumedPlacements({ workload, now }: { workload: string; now: number }): readonly CurrentPlacement[] | undefined {
    this.#prune(now);
    return this.#assumed.get(workload)?.placements;
  }

  #inputOf({ workload, ...rest }: CacheDecisionInput): WorkloadDecisionInput {
    const object = typeof workload === "string" ? this.#workloads.get(workload) : workload;
    if (!object) throw new WorkloadNotCachedError(workload as string);
    const assumed = this.#assumedAt(rest.now);
    const own = assumed.get(workloadKey(object));
    return {
      ...rest,
      workload: object,
      clusters: this.#clusters.list(),
      policies: this.#policies,
      workloads: this.#workloads.list(),
      assumed,
      ...(rest.current === undefined && own ? { current: own } : {}),
    };
  }

  #assumedAt(now: number): Map<string, readonly CurrentPlacement[]> {
    this.#prune(now);
    return new Map([...this.#assumed].map(([key, a]) => [key, a.placements]));
  }

  /** Level-based: an entry goes when what it stood for is visible, or can no longer be. */
  #prune(now: number): void {
    for (const [key, a] of this.#assumed) {
      const w = this.#workloads.get(key);
      if (!w || now >= a.expires || samePlacements(w.status?.placements ?? [], a.placements)) this.#assumed.delete(key);
    }
  }
}
