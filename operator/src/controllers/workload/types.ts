/**
 * What the workload controller's pure desired step reads and returns. No I/O and no
 * clock in here: the reconciler gathers these from the caches and the member reports,
 * and carries out what comes back.
 */
import type { MemberCluster, ResidencyPolicy, SovereignWorkload, SovereignWorkloadStatus } from "../../api/index.ts";
import type { AuditRecord, PlacementIntent } from "../../federation/index.ts";
import type { Decision, Placement, PlacementRequest } from "../../scheduler/index.ts";
import type { MemberReport } from "../reports.ts";

export type { MemberReport };

/**
 * One scheduling decision. The reconciler binds it to the scheduler cache; tests bind it
 * to the core over plain views. `treatAsReady` are NotReady clusters that keep their
 * replicas (within toleration) and may be counted as holding them; `exclude` are
 * clusters this decision may not use at all; `current` is where replicas are now, so a
 * stable scheduler can keep them there.
 */
export type DecideFn = (params: {
  request: PlacementRequest;
  treatAsReady: ReadonlySet<string>;
  exclude: ReadonlySet<string>;
  current: readonly Placement[];
}) => Decision;

export interface DesiredInput {
  /** With `status` as last written: the previous placements are read from it. */
  workload: SovereignWorkload;
  /** The ResidencyPolicy the workload names, when it names one (the caller checks it exists). */
  policy?: ResidencyPolicy | undefined;
  clusters: readonly MemberCluster[];
  reports: ReadonlyMap<string, MemberReport>;
  decide: DecideFn;
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

/** Why a cluster holding replicas loses them, or keeps them. */
export const HolderState = {
  /** Ready and compliant: keeps its replicas. */
  Kept: "Kept",
  /** NotReady but within failover.tolerationSeconds (or failover disabled): keeps exactly its replicas. */
  Held: "Held",
  /** NotReady past its toleration: its replicas are re-placed within residency, if anywhere. */
  Lost: "Lost",
  /** No longer compliant (or gone): loses its replicas at once, replacement or not. */
  Evicted: "Evicted",
} as const;
export type HolderState = (typeof HolderState)[keyof typeof HolderState];

export interface Holder {
  cluster: string;
  country: string;
  replicas: number;
  state: HolderState;
  /** For Evicted: the residency reasons (or "ClusterRemoved"); for Lost/Held: ["NotReady"]. */
  reasons: readonly string[];
  /** For Held with failover on: when its toleration ends (epoch ms). */
  tolerationEndsAt?: number;
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
