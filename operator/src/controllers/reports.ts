/**
 * The members' reports as the control plane last received them: newest heartbeat per
 * cluster, newest workload status per (workload uid, cluster). Fed from a ReportSource
 * (which starts from the newest of each subject, so a restarted control plane knows
 * them at once); the controllers read it level-based and are told which key changed.
 */
import type { Logger } from "pino";
import type { Heartbeat, ReportSource } from "../federation/index.ts";
import type { Runnable } from "../runtime/index.ts";

/** What one member's agent last said about a workload (sov.v1.<cluster>.status.<uid>). */
export interface MemberReport {
  desiredReplicas: number;
  readyReplicas: number;
  observedGeneration: number;
  message: string;
}

export class ReportBook implements Runnable {
  readonly name = "member-reports";
  readonly needLeaderElection = false;
  readonly #source: ReportSource;
  readonly #log: Logger;
  readonly #heartbeats = new Map<string, { heartbeat: Heartbeat; receivedAt: Date }>();
  readonly #statuses = new Map<string, Map<string, MemberReport>>();
  readonly #onHeartbeat: ((cluster: string) => void)[] = [];
  readonly #onStatus: ((uid: string, cluster: string) => void)[] = [];

  constructor(params: { source: ReportSource; log: Logger }) {
    this.#source = params.source;
    this.#log = params.log;
  }

  onHeartbeat(handler: (cluster: string) => void): void {
    this.#onHeartbeat.push(handler);
  }

  onStatus(handler: (uid: string, cluster: string) => void): void {
    this.#onStatus.push(handler);
  }

  lastHeartbeat(cluster: string): { heartbeat: Heartbeat; receivedAt: Date } | undefined {
    return this.#heartbeats.get(cluster);
  }

  reportsOf(uid: string): ReadonlyMap<string, MemberReport> {
    return this.#statuses.get(uid) ?? new Map();
  }

  async start(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#loop(signal, "heartbeats"), this.#loop(signal, "statuses")]);
  }

  async #loop(signal: AbortSignal, kind: "heartbeats" | "statuses"): Promise<void> {
    // A consumer that fails (NATS restarting) is opened again: it starts from the newest of each subject.
    while (!signal.aborted) {
      try {
        if (kind === "heartbeats") {
          for await (const { message, receivedAt } of this.#source.heartbeats(signal)) {
            const had = this.#heartbeats.get(message.cluster);
            if (had && had.receivedAt > receivedAt) continue;
            this.#heartbeats.set(message.cluster, { heartbeat: message, receivedAt });
            for (const h of this.#onHeartbeat) h(message.cluster);
          }
        } else {
          for await (const { message } of this.#source.statuses(signal)) {
            const uid = message.workload?.uid ?? "";
            if (!uid) continue;
            const byCluster = this.#statuses.get(uid) ?? new Map<string, MemberReport>();
            byCluster.set(message.cluster, {
              desiredReplicas: message.desiredReplicas,
              readyReplicas: message.readyReplicas,
              observedGeneration: message.observedGeneration,
              message: message.message,
            });
            this.#statuses.set(uid, byCluster);
            for (const h of this.#onStatus) h(uid, message.cluster);
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#log.warn({ err, kind }, "report consumer failed; reopening");
      }
      if (!signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
