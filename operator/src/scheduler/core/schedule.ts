import { assign } from "./assign.ts";
import { filterClusters } from "./filter.ts";
import type { Profile } from "./framework.ts";
import type { ClusterInfo } from "./cluster-info.ts";
import { DecisionReason, ReasonBit, reasonsOf, type UnselectedReason } from "./reasons.ts";
import type { Snapshot } from "./snapshot.ts";
import { summarize } from "./summary.ts";
import type { Decision, PlacementRequest, Rejection, Unselection } from "./types.ts";

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
  const total = snapshot.clusters.length;
  if (eligible.length === 0) {
    return {
      workload: request.workload,
      scheduled: false,
      reason: DecisionReason.NoCompliantCluster,
      message: summarize({ total, available: 0, verdicts }),
      placements: [],
      rejected: rejections(snapshot, verdicts),
      unselected: [],
    };
  }

  const localities = { countries: snapshot.countryCount, regions: snapshot.localities.length };
  const assignment = assign({ request, eligible, scores: profile.scores, now, localities, columns: snapshot.columns });
  if (!assignment.ok) {
    // Nothing is placed, so every cluster is rejected; the eligible ones for the
    // reason the assignment failed.
    const failed = ReasonBit[assignment.rejectAs];
    for (let i = 0; i < verdicts.length; i++) if (verdicts[i] === 0) verdicts[i] = failed;
    return {
      workload: request.workload,
      scheduled: false,
      reason: assignment.reason,
      message: `${summarize({ total, available: 0, verdicts })} ${assignment.detail}.`,
      placements: [],
      rejected: rejections(snapshot, verdicts),
      unselected: [],
    };
  }

  return {
    workload: request.workload,
    scheduled: true,
    reason: DecisionReason.Scheduled,
    message: summarize({ total, available: eligible.length, verdicts }),
    placements: assignment.placements,
    rejected: rejections(snapshot, verdicts),
    unselected: unselections(eligible, assignment.chosen, assignment.unselectedAs),
  };
}

/** The eligible clusters not chosen, in name order (both lists are). */
function unselections(eligible: readonly ClusterInfo[], chosen: readonly number[], reason: UnselectedReason): Unselection[] {
  const out = new Array<Unselection>(eligible.length - chosen.length);
  for (let i = 0, c = 0, k = 0; i < eligible.length; i++) {
    if (c < chosen.length && chosen[c] === i) c++;
    else out[k++] = { cluster: eligible[i]!.name, reason };
  }
  return out;
}

function rejections(snapshot: Snapshot, verdicts: Int32Array): Rejection[] {
  let count = 0;
  for (let i = 0; i < verdicts.length; i++) if (verdicts[i] !== 0) count++;
  // Sized up front: at 1,000 clusters, growing the array was a visible part of a decision.
  const out = new Array<Rejection>(count);
  const clusters = snapshot.clusters;
  for (let i = 0, k = 0; i < verdicts.length; i++) if (verdicts[i] !== 0) out[k++] = { cluster: clusters[i]!.name, reasons: reasonsOf(verdicts[i]!) };
  return out;
}
