/**
 * The status aggregator: Karmada's work-status / binding-status split. Keyed by workload,
 * woken by changed member reports (and by the workload's own changes), it merges what
 * the members report into SovereignWorkload.status (placements[].readyReplicas,
 * readyReplicas, the Ready condition) without running the scheduler, and writes only
 * when that changes something. Its write is conditional on the resourceVersion it read,
 * so it never puts back placements a newer decision replaced: on a conflict it waits for
 * the newer version (whose echo wakes it) and merges into that.
 */
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { SovereignWorkload, SovereignWorkloadStatus } from "../../api/index.ts";
import type { ControlPlaneHostApi } from "../../kube/index.ts";
import { ConflictError, NotFoundError } from "../../kube/index.ts";
import { noopSovereignMetrics } from "../../metrics/index.ts";
import type { SovereignMetrics } from "../../metrics/index.ts";
import type { Cache, Clock, Reconciler, Result } from "../../runtime/index.ts";
import type { MemberReport } from "../reports.ts";
import { withReadiness } from "./status.ts";

export const STATUS_FIELD_MANAGER = "sovereign-status-aggregator";

/**
 * The status with the members' reports merged in, or undefined when there is nothing to
 * write: no decision yet (the scheduling reconcile writes the first status), a workload
 * being deleted, or reports that change nothing.
 */
export function aggregateStatus({ workload, reports, now }: {
  workload: SovereignWorkload;
  reports: ReadonlyMap<string, MemberReport>;
  now: Date;
}): SovereignWorkloadStatus | undefined {
  const status = workload.status;
  if (!status || status.observedGeneration === undefined || workload.metadata.deletionTimestamp) return undefined;
  const next = withReadiness({ status, reports, wanted: workload.spec.replicas, generation: workload.metadata.generation ?? 0, now });
  return isDeepStrictEqual(comparable(status), comparable(next)) ? undefined : next;
}

/** What a write would change: undefined fields are dropped by the API server anyway. */
const comparable = (s: SovereignWorkloadStatus) => JSON.parse(JSON.stringify(s)) as unknown;

/**
 * Counts scheduling reconciles per workload until its status first says Ready, for
 * sovereign_scheduling_reconciles_to_ready. Pruned when a workload goes.
 */
export class ReconcilesToReady {
  /** uid → scheduling reconciles so far; -1 once observed. */
  readonly #counts = new Map<string, number>();
  readonly #metrics: SovereignMetrics;

  constructor(metrics: SovereignMetrics = noopSovereignMetrics) {
    this.#metrics = metrics;
  }

  scheduled(uid: string): void {
    this.#metrics.schedulingReconciled();
    const n = this.#counts.get(uid) ?? 0;
    if (n >= 0) this.#counts.set(uid, n + 1);
  }

  /** The workload's status says Ready: the first time, its count is observed. */
  ready(uid: string): void {
    const n = this.#counts.get(uid);
    if (n === undefined || n < 0) return;
    this.#metrics.reconcilesToReady({ count: n });
    this.#counts.set(uid, -1);
  }

  forget(uid: string): void {
    this.#counts.delete(uid);
  }

  get size(): number {
    return this.#counts.size;
  }
}

export interface StatusAggregatorDeps {
  workloads: Cache<SovereignWorkload>;
  reports: { reportsOf(uid: string): ReadonlyMap<string, MemberReport> };
  host: Pick<ControlPlaneHostApi, "updateSovereignWorkloadStatus">;
  clock: Clock;
  log: Logger;
  metrics?: SovereignMetrics;
  toReady?: ReconcilesToReady;
}

export class StatusAggregator implements Reconciler {
  readonly #d: StatusAggregatorDeps;
  readonly #metrics: SovereignMetrics;

  constructor(deps: StatusAggregatorDeps) {
    this.#d = deps;
    this.#metrics = deps.metrics ?? noopSovereignMetrics;
  }

  async reconcile(key: string): Promise<Result> {
    const d = this.#d;
    const workload = d.workloads.get(key);
    if (!workload) return {};
    const uid = workload.metadata.uid ?? "";
    const status = aggregateStatus({ workload, reports: d.reports.reportsOf(uid), now: d.clock.now() });
    if (!status) {
      if (isReady(workload.status)) d.toReady?.ready(uid);
      return {};
    }
    try {
      await d.host.updateSovereignWorkloadStatus({
        namespace: workload.metadata.namespace ?? "default", name: workload.metadata.name, status,
        resourceVersion: workload.metadata.resourceVersion ?? "", fieldManager: STATUS_FIELD_MANAGER,
      });
    } catch (err) {
      if (err instanceof NotFoundError) return {};
      if (!(err instanceof ConflictError)) throw err;
      // A newer version exists (a decision, most often): its echo wakes this key again and
      // the merge is redone on it. The requeue covers an echo that came before this write.
      this.#metrics.statusWritten({ result: "conflict" });
      d.log.debug({ workload: key }, "status changed meanwhile; merging into the newer version");
      return { requeueAfterMs: 250 };
    }
    this.#metrics.statusWritten({ result: "written" });
    if (isReady(status)) d.toReady?.ready(uid);
    return {};
  }
}

function isReady(status: SovereignWorkloadStatus | undefined): boolean {
  return status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
}
