import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";

/** What a Lease says (coordination.k8s.io/v1 LeaseSpec, times as Dates). */
export interface LeaseRecord {
  /** Empty when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date;
  renewTime: Date;
  leaseTransitions: number;
}

/** A lease as read, with the version a write must match. */
export interface ObservedLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/**
 * Where the lease lives (client-go's resourcelock.Interface). Writes are optimistic: a
 * write whose resourceVersion is stale, or a create of an existing lease, must fail; the
 * elector treats every failure alike (not acquired this round, try again later).
 */
export interface LeaseLock {
  /** For logs: "sovereign-system/sovereign-controller". */
  readonly description: string;
  get(signal: AbortSignal): Promise<ObservedLease | undefined>;
  create(record: LeaseRecord, signal: AbortSignal): Promise<void>;
  update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<void>;
}

export interface LeaderElectionDurations {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** client-go's and controller-runtime's defaults. */
export const DEFAULT_LEADER_ELECTION: LeaderElectionDurations = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** client-go's JitterFactor for the acquire loop, and the margin its validation demands. */
const JITTER = 1.2;

export class LeaderElectionConfigError extends Error {
  override readonly name = "LeaderElectionConfigError";
  readonly retryable = false;
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** Rejects durations that could let a lease expire for others while its holder still believes it leads. */
export function validateLeaderElection(d: LeaderElectionDurations): LeaderElectionDurations {
  for (const [field, v] of [["leaseDuration", d.leaseDurationMs], ["renewDeadline", d.renewDeadlineMs], ["retryPeriod", d.retryPeriodMs]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new LeaderElectionConfigError(field, `must be a positive duration, got ${v} ms`);
  }
  if (d.leaseDurationMs <= d.renewDeadlineMs) {
    throw new LeaderElectionConfigError("leaseDuration", `must be greater than renewDeadline (${d.leaseDurationMs} ms <= ${d.renewDeadlineMs} ms)`);
  }
  if (d.renewDeadlineMs <= JITTER * d.retryPeriodMs) {
    throw new LeaderElectionConfigError("renewDeadline", `must be greater than ${JITTER} × retryPeriod (${d.renewDeadlineMs} ms <= ${JITTER * d.retryPeriodMs} ms)`);
  }
  return d;
}

/** hostname_pid_random, unique per process even when two replicas share a host. */
export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export class LeadershipLostError extends Error {
  override readonly name = "LeadershipLostError";
  readonly retryable = true;
  constructor(identity: string, lock: string, cause?: unknown) {
    super(`${identity} lost the lease ${lock}: could not renew it within the renew deadline`, cause === undefined ? undefined : { cause });
  }
}

/** Held leadership: `signal` aborts the moment it ends (lost or released). */
export interface Leadership {
  readonly signal: AbortSignal;
  /** Resolves with the reason when leadership was lost (never resolves if released first). */
  readonly lost: Promise<LeadershipLostError>;
  /** Stops renewing and writes an empty holder, so a successor need not wait for expiry. */
  release(): Promise<void>;
}

export interface LeaderElectorParams {
  lock: LeaseLock;
  identity: string;
  durations?: LeaderElectionDurations;
  clock: Clock;
  log: Logger;
  /** Injected for tests; client-go jitters the acquire retry by up to 1.2 × RetryPeriod. */
  random?: () => number;
}

/**
 * client-go's leaderelection.LeaderElector, with one tightening: the renew deadline is
 * counted from the start of the last successful renew, not from the start of each renew
 * round, so the holder stops leading at most RenewDeadline after its last write, which is
 * strictly before LeaseDuration, the earliest another candidate may take the lease.
 * Expiry is judged, as client-go does, by when this process last saw the record change
 * (its own clock), never by the renewTime written by another host's clock.
 */
export class LeaderElector {
  readonly #lock: LeaseLock;
  readonly #identity: string;
  readonly #d: LeaderElectionDurations;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #random: () => number;
  #observed: { record: LeaseRecord; raw: string; at: number } | undefined;
  #leading = false;

  constructor(params: LeaderElectorParams) {
    this.#lock = params.lock;
    this.#identity = params.identity;
    this.#d = validateLeaderElection(params.durations ?? DEFAULT_LEADER_ELECTION);
    this.#clock = params.clock;
    this.#log = params.log.child({ lease: params.lock.description, identity: params.identity });
    this.#random = params.random ?? Math.random;
  }

  get identity(): string {
    return this.#identity;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder this elector last saw, "" when none. */
  observedHolder(): string {
    return this.#observed?.record.holderIdentity ?? "";
  }

  /** Tries every RetryPeriod (jittered) until it holds the lease; undefined if `signal` aborts first. */
  async campaign(signal: AbortSignal): Promise<Leadership | undefined> {
    this.#log.info("campaigning for leadership");
    let lastHolder: string | undefined;
    while (!signal.aborted) {
      const attemptStart = this.#now();
      if (await this.#tryAcquireOrRenew(signal, this.#d.renewDeadlineMs)) {
        this.#log.info({ previousHolder: lastHolder ?? "" }, "became leader");
        return this.#lead(signal, attemptStart);
      }
      const holder = this.observedHolder();
      if (holder !== lastHolder) {
        this.#log.info({ holder }, "lease held by another candidate");
        lastHolder = holder;
      }
      try {
        await this.#clock.sleep(this.#d.retryPeriodMs * (1 + this.#random() * (JITTER - 1)), signal);
      } catch {
        break;
      }
    }
    return undefined;
  }

  #lead(outer: AbortSignal, firstRenew: number): Leadership {
    this.#leading = true;
    const ended = new AbortController();
    const stopRenewing = new AbortController();
    let lostLease = false;
    let released = false;
    let resolveLost!: (e: LeadershipLostError) => void;
    const lost = new Promise<LeadershipLostError>((r) => (resolveLost = r));
    const stopLeading = (reason: Error) => {
      this.#leading = false;
      if (!ended.signal.aborted) ended.abort(reason);
    };
    // Stopped from outside: leader work ends now; the lease stays until release() or expiry.
    const onOuterAbort = () => stopLeading(new Error("leader election stopped"));
    outer.addEventListener("abort", onOuterAbort, { once: true });
    const renewing = this.#renewLoop({
      signal: AbortSignal.any([stopRenewing.signal, outer]),
      lastRenew: firstRenew,
    }).then((error) => {
      outer.removeEventListener("abort", onOuterAbort);
      if (!error) return;
      lostLease = true;
      this.#log.error({ err: error.cause }, "leadership lost: stopping leader work");
      stopLeading(error);
      resolveLost(error);
    });
    const release = async () => {
      stopRenewing.abort();
      await renewing;
      stopLeading(new Error("leadership released"));
      if (lostLease || released) return;
      released = true;
      await this.#release();
    };
    return { signal: ended.signal, lost, release };
  }

  /** Renews every RetryPeriod; returns an error once RenewDeadline has passed since the last good renew. */
  async #renewLoop(params: { signal: AbortSignal; lastRenew: number }): Promise<LeadershipLostError | undefined> {
    let lastRenew = params.lastRenew;
    let lastError: unknown;
    for (;;) {
      const remaining = lastRenew + this.#d.renewDeadlineMs - this.#now();
      if (remaining <= 0) return new LeadershipLostError(this.#identity, this.#lock.description, lastError);
      try {
        await this.#clock.sleep(Math.min(this.#d.retryPeriodMs, remaining), params.signal);
      } catch {
        return undefined;
      }
      const attemptStart = this.#now();
      const left = lastRenew + this.#d.renewDeadlineMs - attemptStart;
      if (left <= 0) return new LeadershipLostError(this.#identity, this.#lock.description, lastError);
      try {
        if (await this.#tryAcquireOrRenew(params.signal, left, true)) {
          // Counted from before the write: the others' expiry clock started no earlier.
          lastRenew = attemptStart;
          lastError = undefined;
        }
      } catch (err) {
        lastError = err;
      }
      if (params.signal.aborted) return undefined;
    }
  }

  /** One round of client-go's tryAcquireOrRenew. `timeoutMs` bounds the requests of this round. */
  async #tryAcquireOrRenew(outer: AbortSignal, timeoutMs: number, rethrow = false): Promise<boolean> {
    const timeout = new AbortController();
    const finished = new AbortController();
    const timer = this.#clock.sleep(timeoutMs, AbortSignal.any([outer, finished.signal]))
      .then(() => timeout.abort(new Error(`lease request exceeded ${timeoutMs} ms`)), () => undefined);
    const signal = AbortSignal.any([outer, timeout.signal]);
    try {
      return await this.#attempt(signal);
    } catch (err) {
      if (rethrow) throw err;
      this.#log.debug({ err }, "lease attempt failed");
      return false;
    } finally {
      finished.abort();
      await timer;
    }
  }

  async #attempt(signal: AbortSignal): Promise<boolean> {
    const now = this.#now();
    const fresh = (transitions: number, acquire: Date): LeaseRecord => ({
      holderIdentity: this.#identity,
      leaseDurationSeconds: Math.ceil(this.#d.leaseDurationMs / 1000),
      acquireTime: acquire,
      renewTime: new Date(now),
      leaseTransitions: transitions,
    });
    const current = await this.#lock.get(signal);
    if (!current) {
      const record = fresh(0, new Date(now));
      await this.#lock.create(record, signal);
      this.#observe(record, now);
      return true;
    }
    const raw = JSON.stringify(current.record);
    if (this.#observed?.raw !== raw) this.#observe(current.record, now, raw);
    const held = current.record.holderIdentity;
    const observedAt = this.#observed!.at;
    const expiresAt = observedAt + current.record.leaseDurationSeconds * 1000;
    if (held !== "" && held !== this.#identity && expiresAt > now) return false;
    const record = held === this.#identity
      ? fresh(current.record.leaseTransitions, current.record.acquireTime)
      : fresh(current.record.leaseTransitions + 1, new Date(now));
    signal.throwIfAborted();
    await this.#lock.update(record, current.resourceVersion, signal);
    this.#observe(record, now);
    return true;
  }

  async #release(): Promise<void> {
    const signal = AbortSignal.timeout(this.#d.renewDeadlineMs);
    try {
      const current = await this.#lock.get(signal);
      if (!current || current.record.holderIdentity !== this.#identity) return;
      const now = new Date(this.#now());
      // client-go writes LeaseDurationSeconds 1 on release so observers expire it at once too.
      await this.#lock.update({ ...current.record, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now }, current.resourceVersion, signal);
      this.#log.info("released the lease");
    } catch (err) {
      this.#log.warn({ err }, "could not release the lease; successors wait for it to expire");
    }
  }

  #observe(record: LeaseRecord, at: number, raw = JSON.stringify(record)): void {
    this.#observed = { record, raw, at };
  }

  #now(): number {
    return this.#clock.now().getTime();
  }
}
