/**
 * The sovereign_* series that describe the whole federation rather than one reconcile:
 * replicas placed per cluster, certification expiries, and the set of known members
 * (their counters created at 0, a deleted member's series dropped). Level-based like
 * the reconcilers: every refresh recomputes from the whole caches, so a missed or
 * reordered event cannot leave a series wrong. Leader-only, like the
 * sovereign_workloads_unschedulable the workload reconciler sets: with two control planes
 * scraped, a sum over them must not count every replica twice.
 */
import type { MemberCluster, SovereignWorkload } from "../api/index.ts";
import type { SovereignMetrics } from "../metrics/index.ts";
import type { Cache, Runnable } from "../runtime/index.ts";
import { validityEnd } from "../scheduler/index.ts";

export interface PlacementRow { cluster: string; country: string; replicas: number }
export interface CertificationRow { cluster: string; certification: string; validUntilSeconds: number }
export interface MemberRow { cluster: string; country: string }

/** What every workload's status says it places where (as last written). */
export function placementRows(workloads: readonly SovereignWorkload[]): PlacementRow[] {
  return workloads.flatMap((w) => (w.status?.placements ?? []).map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas })));
}

/** Each certification's end (the first instant it no longer counts), in epoch seconds; an unreadable validUntil has none. */
export function certificationRows(clusters: readonly MemberCluster[]): CertificationRow[] {
  return clusters.flatMap((c) => (c.spec.residency.certifications ?? []).flatMap((cert) => {
    const end = validityEnd(cert.validUntil);
    return Number.isFinite(end) ? [{ cluster: c.metadata.name, certification: cert.name, validUntilSeconds: end / 1000 }] : [];
  }));
}

export function memberRows(clusters: readonly MemberCluster[]): MemberRow[] {
  return clusters.map((c) => ({ cluster: c.metadata.name, country: c.spec.residency.country }));
}

export class FleetMetrics implements Runnable {
  readonly name = "fleet-metrics";
  readonly needLeaderElection = true;
  readonly #clusters: Cache<MemberCluster>;
  readonly #workloads: Cache<SovereignWorkload>;
  readonly #metrics: SovereignMetrics;
  /** Members the last refresh knew, so one deleted since is forgotten. */
  #known = new Set<string>();
  #scheduled = false;
  #leading = false;

  constructor(params: { clusters: Cache<MemberCluster>; workloads: Cache<SovereignWorkload>; metrics: SovereignMetrics }) {
    this.#clusters = params.clusters;
    this.#workloads = params.workloads;
    this.#metrics = params.metrics;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.#leading = true;
    this.refresh();
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    this.#leading = false;
  }

  /** Coalesces a burst of informer events (a relist announces every object) into one refresh. */
  schedule(): void {
    if (this.#scheduled || !this.#leading) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.refresh();
    });
  }

  refresh(): void {
    if (!this.#leading) return;
    const clusters = this.#clusters.list();
    const members = memberRows(clusters);
    const now = new Set(members.map((m) => m.cluster));
    for (const cluster of this.#known) if (!now.has(cluster)) this.#metrics.memberRemoved({ cluster });
    this.#known = now;
    this.#metrics.members({ rows: members });
    this.#metrics.certifications({ rows: certificationRows(clusters) });
    // A deleted member's placements are dropped by memberRemoved; rows still naming it
    // (a workload whose status was not rewritten yet) would bring it back.
    this.#metrics.placements({ rows: placementRows(this.#workloads.list()).filter((r) => now.has(r.cluster)) });
  }
}
