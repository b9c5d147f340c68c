/**
 * A MemberCluster's status from its last heartbeat, as received by the control plane
 * (the stream's timestamp, never the agent's clock). Pure: `now` is an input.
 */
import type { CertificationName, MemberCluster, MemberClusterStatus } from "../../api/index.ts";
import { formatTime, MEMBER_CLUSTER_CONDITIONS, setCondition } from "../../api/index.ts";
import type { Heartbeat } from "../../federation/index.ts";
import { clusterViewOf, residencyLabels, validityEnd } from "../../scheduler/index.ts";

export const ClusterReason = {
  HeartbeatFresh: "HeartbeatFresh",
  HeartbeatMissed: "HeartbeatMissed",
  NoHeartbeat: "NoHeartbeat",
} as const;

export interface HeartbeatTiming {
  /** Expected interval between heartbeats. */
  intervalMs: number;
  /** NotReady after this many intervals without one. */
  misses: number;
}

export interface LastHeartbeat {
  heartbeat: Heartbeat;
  receivedAt: Date;
}

export interface ClusterDesired {
  status: MemberClusterStatus;
  /** The residency labels of API.md, to apply under the controller's field manager. */
  labels: Record<string, string>;
  ready: boolean;
  /** When to look again: the heartbeat going stale, or the next certification expiry. */
  requeueAfterMs?: number;
}

export function clusterDesired({ cluster, last, timing, now }: { cluster: MemberCluster; last: LastHeartbeat | undefined; timing: HeartbeatTiming; now: Date }): ClusterDesired {
  const at = now.getTime();
  const staleAfter = timing.intervalMs * timing.misses;
  const generation = cluster.metadata.generation ?? 0;
  const age = last ? at - last.receivedAt.getTime() : undefined;
  const ready = age !== undefined && age < staleAfter;
  const condition = last === undefined
    ? { status: "False" as const, reason: ClusterReason.NoHeartbeat, message: "no heartbeat received from the member agent" }
    : ready
      ? { status: "True" as const, reason: ClusterReason.HeartbeatFresh, message: `last heartbeat received ${Math.round(age! / 1000)}s ago` }
      : { status: "False" as const, reason: ClusterReason.HeartbeatMissed, message: `no heartbeat for ${Math.round(age! / 1000)}s (${timing.misses} intervals of ${timing.intervalMs / 1000}s missed)` };
  // Keep an unchanged message across reconciles only when status is unchanged: the age
  // in the message would otherwise force a write on every heartbeat.
  const previous = cluster.status?.conditions?.find((c) => c.type === MEMBER_CLUSTER_CONDITIONS.Ready);
  const message = previous && previous.status === condition.status && previous.reason === condition.reason ? previous.message : condition.message;
  const conditions = setCondition(cluster.status?.conditions, { type: MEMBER_CLUSTER_CONDITIONS.Ready, ...condition, message, observedGeneration: generation }, now);

  const certs = cluster.spec.residency.certifications ?? [];
  const validCertifications = [...new Set(certs.filter((c) => at < validityEnd(c.validUntil)).map((c) => c.name))].sort() as CertificationName[];
  const a = last?.heartbeat.allocatable;
  const allocatable = a
    ? Object.fromEntries(Object.entries({ cpu: a.cpu, memory: a.memory, pods: a.pods }).filter(([, v]) => v !== "")) as Record<string, string>
    : cluster.status?.allocatable;

  const status: MemberClusterStatus = {
    observedGeneration: generation,
    conditions: [...conditions],
    ...(last ? { lastHeartbeatTime: formatTime(last.receivedAt) } : cluster.status?.lastHeartbeatTime ? { lastHeartbeatTime: cluster.status.lastHeartbeatTime } : {}),
    ...(allocatable ? { allocatable } : {}),
    validCertifications,
  };

  const instants: number[] = [];
  if (ready) instants.push(last!.receivedAt.getTime() + staleAfter);
  for (const c of certs) {
    const end = validityEnd(c.validUntil);
    if (end > at) instants.push(end);
  }
  const next = instants.length ? Math.max(0, Math.min(...instants) - at) : undefined;
  return {
    status,
    labels: residencyLabels(clusterViewOf({ cluster }), at),
    ready,
    ...(next !== undefined ? { requeueAfterMs: next } : {}),
  };
}
