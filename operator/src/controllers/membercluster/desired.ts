/**
 * A MemberCluster's status from its last heartbeat, as received by the control plane
 * (the stream's timestamp, never the agent's clock). Pure: `now` is an input.
 */
import type { CertificationName, MemberCluster, MemberClusterStatus } from "../../api/index.ts";
import { formatTime, MEMBER_CLUSTER_CONDITIONS, QUANTITY, setCondition } from "../../api/index.ts";
import type { Heartbeat } from "../../federation/index.ts";
import { clusterViewOf, residencyLabels, validityEnd } from "../../scheduler/index.ts";
import type { HeartbeatFeed } from "../reports.ts";

export const ClusterReason = {
  HeartbeatFresh: "HeartbeatFresh",
  HeartbeatMissed: "HeartbeatMissed",
  NoHeartbeat: "NoHeartbeat",
  /** Ready kept: the control plane itself is cut off from NATS, so a missing heartbeat says nothing about the member. */
  ControlPlaneDisconnected: "ControlPlaneDisconnected",
  /** Ready kept: the control plane reconnected to NATS less than a heartbeat window ago and waits for the member's next one. */
  ControlPlaneReconnected: "ControlPlaneReconnected",
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

/**
 * `feed` is whether the control plane can hear members at all, and since when. A member
 * is judged only on what the control plane could have heard: while it is cut off from
 * NATS (or for one heartbeat window after it reconnects) a member that was Ready stays
 * Ready, as the node lifecycle controller stops evicting when it cannot tell a zone's
 * failure from its own. A restarted nats-server would otherwise make every member
 * NotReady at once and start failovers that nothing on the members asked for. A member
 * that was not Ready is never made Ready this way: only a heartbeat does that.
 */
export function clusterDesired({ cluster, last, timing, now, feed }: {
  cluster: MemberCluster; last: LastHeartbeat | undefined; timing: HeartbeatTiming; now: Date;
  feed?: HeartbeatFeed | undefined;
}): ClusterDesired {
  const at = now.getTime();
  const staleAfter = timing.intervalMs * timing.misses;
  const generation = cluster.metadata.generation ?? 0;
  const age = last ? at - last.receivedAt.getTime() : undefined;
  const heard = age !== undefined && age < staleAfter;
  const previous = cluster.status?.conditions?.find((c) => c.type === MEMBER_CLUSTER_CONDITIONS.Ready);
  const listening = feed ? at - feed.since.getTime() : Infinity;
  const held = !heard && last !== undefined && previous?.status === "True" && feed !== undefined && (!feed.connected || listening < staleAfter);
  const ready = heard || held;
  const condition = last === undefined
    ? { status: "False" as const, reason: ClusterReason.NoHeartbeat, message: "no heartbeat received from the member agent" }
    : heard
      ? { status: "True" as const, reason: ClusterReason.HeartbeatFresh, message: `last heartbeat received ${Math.round(age! / 1000)}s ago` }
      : held && !feed!.connected
        ? { status: "True" as const, reason: ClusterReason.ControlPlaneDisconnected, message: "the control plane is cut off from NATS and cannot hear this member: Ready is kept until it can" }
        : held
          ? { status: "True" as const, reason: ClusterReason.ControlPlaneReconnected, message: `the control plane reconnected to NATS ${Math.round(listening / 1000)}s ago and waits up to ${staleAfter / 1000}s for this member's next heartbeat` }
          : { status: "False" as const, reason: ClusterReason.HeartbeatMissed, message: `no heartbeat for ${Math.round(age! / 1000)}s (${timing.misses} intervals of ${timing.intervalMs / 1000}s missed)` };
  // Keep an unchanged message across reconciles only when status is unchanged: the age
  // in the message would otherwise force a write on every heartbeat.
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
  if (heard) instants.push(last!.receivedAt.getTime() + staleAfter);
  // Held after a reconnect: look again when the window ends (a reconnect or a heartbeat wakes it sooner).
  if (held && feed!.connected) instants.push(feed!.since.getTime() + staleAfter);
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
