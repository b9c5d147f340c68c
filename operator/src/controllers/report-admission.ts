/**
 * Whether the control plane may take a member's workload status at all: a pure check for
 * the report handling (controllers/reports.ts) to run before it stores anything, so that a
 * member cannot flood the host with statuses of workloads it does not run, nor speak for
 * another workload than the one its subject names. Dropped reports are counted by reason.
 */
export const ReportDrop = {
  /** The payload's cluster is not the member the subject (and so the NATS account) belongs to. */
  ClusterMismatch: "ClusterMismatch",
  /** The payload's workload uid is not the subject's last token. */
  UidMismatch: "UidMismatch",
  /** No SovereignWorkload with this uid exists on the host. */
  UnknownWorkload: "UnknownWorkload",
  /** The workload exists but is not placed on (and not being removed from) the sending member. */
  NotPlacedOnMember: "NotPlacedOnMember",
  /** The payload is not a WorkloadStatus at all (it does not decode): a broken or hostile sender. */
  Malformed: "Malformed",
} as const;
export type ReportDrop = (typeof ReportDrop)[keyof typeof ReportDrop];

export function reportAdmission(params: {
  /** From the subject the report arrived on: sov.v1.<cluster>.status.<uid>. */
  subject: { cluster: string; workloadUid: string };
  payload: { cluster: string; workloadUid: string | undefined };
  /**
   * The clusters the workload with this uid lists in status.placements (including those
   * being vacated, with 0 replicas), or undefined when no such workload exists.
   */
  placedOn: ReadonlySet<string> | undefined;
}): { accept: true } | { accept: false; reason: ReportDrop } {
  const { subject, payload, placedOn } = params;
  if (payload.cluster !== subject.cluster) return { accept: false, reason: ReportDrop.ClusterMismatch };
  if (payload.workloadUid !== subject.workloadUid) return { accept: false, reason: ReportDrop.UidMismatch };
  if (placedOn === undefined) return { accept: false, reason: ReportDrop.UnknownWorkload };
  if (!placedOn.has(subject.cluster)) return { accept: false, reason: ReportDrop.NotPlacedOnMember };
  return { accept: true };
}
