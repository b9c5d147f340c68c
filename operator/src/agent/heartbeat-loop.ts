/** The member's heartbeat every interval: what its Ready nodes can hold, and that the agent is alive. */
import type { Logger } from "pino";
import type { MemberApi } from "../kube/index.ts";
import type { AgentMetrics } from "../metrics/index.ts";
import type { Clock, Runnable } from "../runtime/index.ts";
import type { GuardDriftLog } from "./guard-drift.ts";
import { allocatableOf } from "./heartbeat.ts";
import type { FederationLink } from "./intents.ts";

export interface HeartbeatsParams {
  cluster: string;
  agentVersion: string;
  member: Pick<MemberApi, "listNodes">;
  link: Promise<FederationLink>;
  clock: Clock;
  log: Logger;
  metrics: AgentMetrics;
  intervalMs: number;
  /** The residency guard's recent restores, carried in every heartbeat while they are recent. */
  drift?: GuardDriftLog;
}

export class Heartbeats implements Runnable {
  readonly name = "heartbeats";
  readonly needLeaderElection = false;
  readonly #p: HeartbeatsParams;
  #sequence = 0;

  constructor(params: HeartbeatsParams) {
    this.#p = params;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { reports } = await this.#p.link;
    while (!signal.aborted) {
      try {
        const nodes = await this.#p.member.listNodes();
        await reports.publishHeartbeat({
          cluster: this.#p.cluster,
          agentVersion: this.#p.agentVersion,
          allocatable: allocatableOf(nodes),
          sentAt: this.#p.clock.now(),
          sequence: ++this.#sequence,
          guardDrift: this.#p.drift?.recent(this.#p.clock.now()) ?? [],
        });
        this.#p.metrics.heartbeatPublished();
      } catch (err) {
        this.#p.log.warn({ err }, "could not send a heartbeat");
      }
      await this.#p.clock.sleep(this.#p.intervalMs, signal).catch(() => undefined);
    }
  }
}
