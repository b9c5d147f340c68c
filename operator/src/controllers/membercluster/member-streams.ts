/**
 * A deleted member's NATS streams (its status and intents streams): each reserves its
 * storage limit on the server, so the streams of members deleted over time would use up
 * what JetStream may reserve and refuse the next member's. They go once the member is
 * gone for good: no MemberCluster of that name, no workload still placed there, and its
 * agent took every intent (the removals included; see ControlPlaneStreams.removeMember) or
 * has been silent for 10 minutes (uninstalled before its MemberCluster was deleted).
 */
import type { Logger } from "pino";
import type { SovereignWorkload } from "../../api/index.ts";
import type { Cache, Runnable } from "../../runtime/index.ts";
import { waitFor } from "../../runtime/index.ts";

/** How often a deleted member whose streams must wait is looked at again. */
export const MEMBER_STREAMS_RETRY_MS = 30_000;

/** A deleted member's agent silent this long is taken as gone: it will not take its removals. */
export const MEMBER_AGENT_GONE_MS = 10 * 60_000;

/** Whether a deleted member's agent is gone: no heartbeat for MEMBER_AGENT_GONE_MS, or none ever heard. */
export function memberAgentGone(params: { lastHeartbeatAt: Date | undefined; now: Date }): boolean {
  return params.lastHeartbeatAt === undefined || params.now.getTime() - params.lastHeartbeatAt.getTime() >= MEMBER_AGENT_GONE_MS;
}

/** Whether nothing needs `cluster`'s streams any more: it is not declared, and no workload's status places replicas there. */
export function memberStreamsUnused(params: { cluster: string; declared: boolean; workloadsNamingIt: readonly SovereignWorkload[] }): boolean {
  if (params.declared) return false;
  return !params.workloadsNamingIt.some((w) => (w.status?.placements ?? []).some((p) => p.cluster === params.cluster));
}

/**
 * At the start of leadership: the members that have streams but no MemberCluster (deleted
 * while no control plane ran, or before this one led) are queued for the MemberCluster
 * controller, which removes their streams when they are done with.
 */
export class DeletedMemberStreams implements Runnable {
  readonly name = "deleted-member-streams";
  readonly needLeaderElection = true;
  readonly #d: { clusters: Cache<unknown>; listed: () => Promise<string[]>; enqueue: (cluster: string) => void; log: Logger; retryMs: number };

  constructor(deps: {
    /** Synced before a leader-only runnable starts (the manager's order). */
    clusters: Cache<unknown>;
    /** The clusters with member streams on the server. */
    listed: () => Promise<string[]>;
    enqueue: (cluster: string) => void;
    log: Logger;
    /** Between listings that fail (NATS not answering yet); default 5 s. */
    retryMs?: number;
  }) {
    this.#d = { ...deps, retryMs: deps.retryMs ?? 5_000 };
  }

  async start(signal: AbortSignal): Promise<void> {
    const d = this.#d;
    const listed = await waitFor(async () => {
      try {
        return await d.listed();
      } catch (err) {
        d.log.warn({ err }, "could not list the member streams yet; retrying");
        return undefined;
      }
    }, { what: "the member streams listed", timeoutMs: Number.MAX_SAFE_INTEGER, intervalMs: d.retryMs, signal }).catch(() => undefined);
    const deleted = (listed ?? []).filter((c) => !d.clusters.get(c));
    if (deleted.length > 0) d.log.info({ clusters: deleted }, "members with streams but no MemberCluster: their streams go once nothing needs them");
    for (const c of deleted) d.enqueue(c);
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
  }
}
