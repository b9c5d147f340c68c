import { assign } from "./assign.ts";
import type { ClusterInfo } from "./cluster-info.ts";
import { filterClusters } from "./filter.ts";
import type { Profile } from "./framework.ts";
import { DecisionReason, type Reason } from "./reasons.ts";
import type { Snapshot } from "./snapshot.ts";
import { summarize } from "./summary.ts";
import type { Decision, PlacementRequest, Rejection } from "./types.ts";

/**
 * One scheduling decision, as a pipeline: compile the filters for this request, filter
 * every cluster of the snapshot, score and assign among the eligible ones, explain the
 * rest. Pure: the same snapshot, request and `now` give the same decision.
 */
export function schedule({ snapshot, request, now, profile }: {
  snapshot: Snapshot;
  request: PlacementRequest;
  /** Epoch milliseconds. */
  now: number;
  profile: Profile;
}): Decision {
  const { eligible, verdicts } = filterClusters({ snapshot, request, now, profile });
  const clusters = snapshot.clusters;
  const total = clusters.length;
  if (eligible.length === 0) {
    const rejected = rejections(clusters, verdicts);
    return {
      workload: request.workload,
      scheduled: false,
      reason: DecisionReason.NoCompliantCluster,
      message: summarize({ total, available: 0, rejected }),
      placements: [],
      rejected,
    };
  }

  const assignment = assign({ request, eligible, scores: profile.scores, now });
  if (!assignment.ok) {
    // Nothing is placed, so every cluster is rejected; the eligible ones for the
    // reason the assignment failed.
    const failed = [assignment.rejectAs] as const;
    for (let i = 0; i < clusters.length; i++) if (verdicts[i]!.length === 0) verdicts[i] = failed;
    const rejected = rejections(clusters, verdicts);
    return {
      workload: request.workload,
      scheduled: false,
      reason: assignment.reason,
      message: `${summarize({ total, available: 0, rejected })} ${assignment.detail}.`,
      placements: [],
      rejected,
    };
  }

  const rejected = rejections(clusters, verdicts);
  return {
    workload: request.workload,
    scheduled: true,
    reason: DecisionReason.Scheduled,
    message: summarize({ total, available: eligible.length, rejected }),
    placements: assignment.placements,
    rejected,
  };
}

function rejections(clusters: readonly ClusterInfo[], verdicts: readonly (readonly Reason[])[]): Rejection[] {
  const out: Rejection[] = [];
  for (let i = 0; i < clusters.length; i++) {
    const reasons = verdicts[i]!;
    if (reasons.length > 0) out.push({ cluster: clusters[i]!.name, reasons });
  }
  return out;
}
