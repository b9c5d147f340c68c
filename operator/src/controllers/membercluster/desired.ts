/**
 * A MemberCluster's status from its last heartbeat, as received by the control plane
 * (the stream's timestamp, never the agent's clock). Pure: `now` is an input.
 */
import type { CertificationName, MemberCluster, MemberClusterStatus } from "../../api/index.ts";
import { formatTime, MEMBER_CLUSTER_CONDITIONS, QUANTITY, setCondition } from "../../api/index.ts";
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

/** A heartbeat field the status does not take, and why. */
export interface RejectedHeartbeatField {
  field: string;
  reason: string;
}

export interface ClusterDesired {
  status: MemberClusterStatus;
  /** Heartbeat fields left out of the status (the previous value, if any, is kept): to report. */
  rejected: RejectedHeartbeatField[];
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
  const { allocatable, rejected } = allocatableOf({ reported: last?.heartbeat.allocatable, previous: cluster.status?.allocatable });

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
    rejected,
    labels: residencyLabels(clusterViewOf({ cluster }), at),
    ready,
    ...(next !== undefined ? { requeueAfterMs: next } : {}),
  };
}

/** Longer than any quantity a real cluster reports; the CRD's pattern alone does not bound it. */
export const MAX_QUANTITY_LENGTH = 64;
const QUANTITY_RE = new RegExp(QUANTITY);

/**
 * The allocatable resources a heartbeat may set. A value the CRD would refuse (not a
 * quantity, or absurdly long) is dropped and reported, and that resource keeps its
 * previous value: one bad field from a member must not make the whole status write fail,
 * which would freeze Ready and lastHeartbeatTime with it.
 */
export function allocatableOf({ reported, previous }: {
  reported: { cpu: string; memory: string; pods: string } | undefined;
  previous: Record<string, string> | undefined;
}): { allocatable: Record<string, string> | undefined; rejected: RejectedHeartbeatField[] } {
  if (!reported) return { allocatable: previous, rejected: [] };
  const out: Record<string, string> = {};
  const rejected: RejectedHeartbeatField[] = [];
  for (const key of ["cpu", "memory", "pods"] as const) {
    const value: unknown = reported[key];
    if (value === "" || value === undefined) continue;
    if (typeof value === "string" && value.length <= MAX_QUANTITY_LENGTH && QUANTITY_RE.test(value)) {
      out[key] = value;
      continue;
    }
    const shown = typeof value === "string" ? JSON.stringify(value.length > MAX_QUANTITY_LENGTH ? `${value.slice(0, MAX_QUANTITY_LENGTH)}...` : value) : typeof value;
    rejected.push({ field: `allocatable.${key}`, reason: `${shown} is not a quantity of at most ${MAX_QUANTITY_LENGTH} characters` });
    const kept = previous?.[key];
    if (kept !== undefined) out[key] = kept;
  }
  return { allocatable: out, rejected };
}
