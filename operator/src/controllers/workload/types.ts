/**
 * What the workload controller's pure desired step reads and returns. No I/O and no
 * clock in here: the reconciler gathers these from the caches and the member reports,
 * and carries out what comes back.
 */
import type { MemberCluster, ResidencyPolicy, SovereignWorkload, SovereignWorkloadStatus } from "../../api/index.ts";
import type { AuditRecord, PlacementIntent } from "../../federation/index.ts";
import type { Holder, Placement, Resources } from "../../scheduler/index.ts";
import type { MemberReport } from "../reports.ts";

export type { MemberReport };
export { HolderState, type Holder } from "../../scheduler/index.ts";

export interface DesiredInput {
  /** With `status` as last written: the previous placements are read from it. */
  workload: SovereignWorkload;
  /** The ResidencyPolicy the workload names, when it names one and it exists (missing: Scheduled=False, PolicyNotFound). */
  policy?: ResidencyPolicy | undefined;
  clusters: readonly MemberCluster[];
  reports: ReadonlyMap<string, MemberReport>;
  /**
   * Per cluster, what the other workloads take there: the scheduler cache's totals
   * (assumed placements included) less this workload's own share.
   */
  used: ReadonlyMap<string, Resources>;
  now: Date;
  /** Who decides, for audit records: "control-plane/<identity>". */
  decidedBy: string;
  /**
   * Clusters whose zero intent JetStream has acknowledged for this workload. Until then a
   * vacated cluster stays in status.placements (with 0 replicas), so a crash between the
   * status write and the publish cannot forget a Deployment that still runs.
   */
  removalAcknowledged: ReadonlySet<string>;
}

export type EventType = "Normal" | "Warning";

/** A Kubernetes Event on the workload. Reasons are the API's words (Scheduled, FailedOver...). */
export interface WorkloadEvent {
  type: EventType;
  reason: "Scheduled" | "PlacementRejected" | "FailedOver" | "Unschedulable";
  message: string;
}

export interface DesiredState {
  /** cluster → replicas, only clusters with replicas > 0, sorted by name. */
  placements: readonly Placement[];
  /** One intent per cluster that holds replicas now or held them before (0 = remove). */
  intents: readonly PlacementIntent[];
  status: SovereignWorkloadStatus;
  events: readonly WorkloadEvent[];
  /** Every placement change, to publish BEFORE the status write. */
  audit: readonly AuditRecord[];
  /** The next instant the decision can change on its own, from now; undefined: only on change. */
  requeueAfterMs?: number;
  holders: readonly Holder[];
}
