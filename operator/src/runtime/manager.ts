import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import { LeaderElector } from "./leader.ts";
import type { LeaderElectionDurations, LeaseLock } from "./leader.ts";
import type { Informer, Runnable } from "./types.ts";

export interface ManagerParams {
  clock: Clock;
  log: Logger;
  /** Undefined: this process is the only writer (tests, single-replica). */
  leaderElection: { lock: LeaseLock; identity: string; durations?: LeaderElectionDurations } | undefined;
  /** host:port for /healthz, /readyz, /metrics; port 0 picks one (see `port`). */
  healthAddress: string;
  metrics?: { contentType: string; metrics(): Promise<string> };
  /** How long stop waits for runnables before giving up on them. Default 30 s. */
  gracePeriodMs?: number;
  /** Why the process is not ready besides caches still syncing (e.g. a connection down); empty when it is. */
  readiness?: () => string[];
}

function isInformer(r: Runnable): r is Informer<unknown> {
  return typeof (r as Partial<Informer<unknown>>).waitForSync === "function" && typeof (r as Partial<Informer<unknown>>).hasSynced === "function";
}

/** A runnable failed; the manager stopped the others and returns this. */
export class RunnableFailedError extends Error {
  override readonly name = "RunnableFailedError";
  readonly retryable = true;
  constructor(runnable: string, cause: unknown) {
    super(`runnable ${runnable} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

interface Started {
  runnable: Runnable;
  stop: AbortController;
  done: Promise<void>;
}

/**
 * controller-runtime's manager (pkg/manager/internal.go): caches first, then the
 * runnables that may run on every replica, then leader election, then the leader-only
 * runnables. Losing the lease stops the leader-only work and makes `start` reject: the
 * process exits and is restarted, it never keeps writing as a former leader.
 */
export class Manager {
  readonly #p: ManagerParams;
  readonly #log: Logger;
  readonly #runnables: Runnable[] = [];
  readonly #elector: LeaderElector | undefined;
  #server: http.Server | undefined;
  #started = false;

  constructor(params: ManagerParams) {
    this.#p = params;
    this.#log = params.log.child({ component: "manager" });
    this.#elector = params.leaderElection && new LeaderElector({ ...params.leaderElection, clock: params.clock, log: params.log });
  }

  add(runnable: Runnable): void {
    if (this.#started) throw new Error(`manager: add(${runnable.name}) after start`);
    this.#runnables.push(runnable);
  }

  /** True while this replica holds the lease (always true without leader election, once started). */
  isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader() : this.#started;
  }

  /** The port /healthz listens on, once started. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === "object" ? (a as AddressInfo).port : undefined;
  }

  /** Ready when every informer has synced and the readiness check has nothing to say. */
  ready(): boolean {
    return this.#notReady().length === 0;
  }

  #notReady(): string[] {
    const pending = this.#runnables.filter(isInformer).filter((i) => !i.hasSynced()).map((i) => i.name);
    return [...(pending.length > 0 ? [`caches not synced: ${pending.join(", ")}`] : []), ...(this.#p.readiness?.() ?? [])];
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error("manager: start called twice");
    this.#started = true;
    const failed = new AbortController();
    const fail = (r: Runnable, err: unknown) => {
      this.#log.error({ runnable: r.name, err }, "runnable failed; stopping the manager");
      if (!failed.signal.aborted) failed.abort(new RunnableFailedError(r.name, err));
    };
    const launch = (r: Runnable, parent: AbortSignal): Started => {
      const stop = new AbortController();
      const s = AbortSignal.any([stop.signal, parent]);
      const done = Promise.resolve()
        .then(() => r.start(s))
        .then(
          () => { if (!s.aborted) this.#log.info({ runnable: r.name }, "runnable returned"); },
          (err) => { if (!s.aborted) fail(r, err); else this.#log.warn({ runnable: r.name, err }, "runnable threw while stopping"); },
        );
      return { runnable: r, stop, done };
    };

    const caches = this.#runnables.filter(isInformer);
    const others = this.#runnables.filter((r) => !isInformer(r) && !r.needLeaderElection);
    const leaderOnly = this.#runnables.filter((r) => !isInformer(r) && r.needLeaderElection);
    const stopping = AbortSignal.any([signal, failed.signal]);
    const groups: { caches: Started[]; others: Started[]; leader: Started[] } = { caches: [], others: [], leader: [] };
    let leadership: Awaited<ReturnType<LeaderElector["campaign"]>>;
    let lostError: Error | undefined;

    await this.#listen();
    try {
      groups.caches = caches.map((c) => launch(c, stopping));
      await Promise.all(caches.map((c) => c.waitForSync(stopping))).catch(() => undefined);
      if (stopping.aborted) return await this.#finish({ groups, leadership, failed, lostError });
      this.#log.info({ caches: caches.length }, "caches synced");
      groups.others = others.map((r) => launch(r, stopping));

      let leaderSignal = stopping;
      if (this.#elector) {
        leadership = await this.#elector.campaign(stopping);
        if (!leadership) return await this.#finish({ groups, leadership, failed, lostError });
        leaderSignal = AbortSignal.any([stopping, leadership.signal]);
      }
      groups.leader = leaderOnly.map((r) => launch(r, leaderSignal));
      await new Promise<void>((resolve) => {
        if (leaderSignal.aborted) return resolve();
        leaderSignal.addEventListener("abort", () => resolve(), { once: true });
      });
      // The lease ended while nobody asked us to stop: it was lost (lost resolves as it aborts).
      if (leadership && !stopping.aborted) lostError = await leadership.lost;
      return await this.#finish({ groups, leadership, failed, lostError });
    } catch (err) {
      await this.#finish({ groups, leadership, failed, lostError }).catch(() => undefined);
      throw err;
    }
  }

  /** Stops leader-only work first, releases the lease, then the rest, then the server; rejects if a runnable failed or the lease was lost. */
  async #finish(p: {
    groups: { caches: Started[]; others: Started[]; leader: Started[] };
    leadership: Awaited<ReturnType<LeaderElector["campaign"]>>;
    failed: AbortController;
    lostError: Error | undefined;
  }): Promise<void> {
    const grace = this.#p.gracePeriodMs ?? 30_000;
    const clock = this.#p.clock;
    const deadline = clock.now().getTime() + grace;
    const stopGroup = async (name: string, group: Started[]) => {
      for (const s of group) s.stop.abort();
      const left = Math.max(0, deadline - clock.now().getTime());
      const cancel = new AbortController();
      const timedOut = await Promise.race([
        Promise.all(group.map((s) => s.done)).then(() => false),
        clock.sleep(left, cancel.signal).then(() => true, () => false),
      ]);
      cancel.abort();
      if (timedOut) this.#log.error({ group: name, gracePeriodMs: grace }, "runnables did not stop within the grace period");
    };
    await stopGroup("leader", p.groups.leader);
    await p.leadership?.release();
    await stopGroup("others", p.groups.others);
    await stopGroup("caches", p.groups.caches);
    await this.#close();
    this.#log.info("manager stopped");
    if (p.lostError) throw p.lostError;
    if (p.failed.signal.aborted) throw p.failed.signal.reason;
  }

  async #listen(): Promise<void> {
    const { host, port } = parseAddress(this.#p.healthAddress);
    const server = http.createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    this.#log.info({ address: `${host}:${this.port}` }, "serving /healthz, /readyz, /metrics");
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const text = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (path === "/healthz") return text(200, "ok\n");
    if (path === "/readyz") {
      const reasons = this.#notReady();
      return reasons.length === 0 ? text(200, "ok\n") : text(503, `${reasons.join("\n")}\n`);
    }
    if (path === "/metrics") {
      if (!this.#p.metrics) return text(404, "no metrics source\n");
      try {
        return text(200, await this.#p.metrics.metrics(), this.#p.metrics.contentType);
      } catch (err) {
        this.#log.error({ err }, "metrics source failed");
        return text(500, "metrics unavailable\n");
      }
    }
    return text(404, "not found\n");
  }

  async #close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** "127.0.0.1:8080" → host and port; an error names the field. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new RangeError(`healthAddress: expected host:port, got "${address}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** For a main(): aborted on the first SIGTERM or SIGINT, with the signal's name as reason. */
export function signalAbort(): AbortSignal {
  const ac = new AbortController();
  const on = (name: NodeJS.Signals) => () => {
    process.off("SIGTERM", term);
    process.off("SIGINT", int);
    ac.abort(new Error(`received ${name}`));
  };
  const term = on("SIGTERM");
  const int = on("SIGINT");
  process.once("SIGTERM", term);
  process.once("SIGINT", int);
  return ac.signal;
}
