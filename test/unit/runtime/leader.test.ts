import assert from "node:assert/strict";
import { pino } from "pino";
import { TestClock } from "../../../operator/src/runtime/clock.ts";
import {
  DEFAULT_LEADER_ELECTION,
  LeaderElector,
  LeadershipLostError,
  validateLeaderElection,
} from "../../../operator/src/runtime/leader.ts";
import type { LeaseLock, LeaseRecord, ObservedLease } from "../../../operator/src/runtime/leader.ts";

const log = pino({ level: "silent" });

/** One lease shared by several candidates; each candidate's view can fail or hang on its own. */
class LeaseStore {
  current: { record: LeaseRecord; rv: number } | undefined;
  /** Every successful write, in order, with the time of the test clock. */
  readonly writes: { holder: string; at: number }[] = [];
  readonly clock: TestClock;
  constructor(clock: TestClock) {
    this.clock = clock;
  }

  view(name: string) {
    return viewOf(this, name);
  }
}

function viewOf(store: LeaseStore, name: string) {
  {
    const state = { mode: "ok" as "ok" | "fail" | "hang" };
    const gate = <T>(signal: AbortSignal, f: () => T): Promise<T> => {
      if (state.mode === "fail") return Promise.reject(Object.assign(new Error(`${name}: connection refused`), { retryable: true }));
      if (state.mode === "hang") return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
      try {
        return Promise.resolve(f());
      } catch (e) {
        return Promise.reject(e);
      }
    };
    const lock: LeaseLock = {
      description: "test/lease",
      get: (signal) => gate(signal, (): ObservedLease | undefined =>
        store.current && { record: structuredClone(store.current.record), resourceVersion: String(store.current.rv) }),
      create: (record, signal) => gate(signal, () => {
        if (store.current) throw Object.assign(new Error("already exists"), { retryable: true });
        store.current = { record: structuredClone(record), rv: 1 };
        store.writes.push({ holder: record.holderIdentity, at: store.clock.now().getTime() });
      }),
      update: (record, rv, signal) => gate(signal, () => {
        if (!store.current || String(store.current.rv) !== rv) throw Object.assign(new Error("conflict"), { retryable: true });
        store.current = { record: structuredClone(record), rv: store.current.rv + 1 };
        store.writes.push({ holder: record.holderIdentity, at: store.clock.now().getTime() });
      }),
    };
    return { lock, state };
  }
}

function candidate(store: LeaseStore, identity: string) {
  const { lock, state } = store.view(identity);
  const elector = new LeaderElector({ lock, identity, clock: store.clock, log, random: () => 0 });
  return { elector, state };
}

/** Advances the test clock in small steps so every loop gets to run, until `check` holds or `maxMs` passed. */
async function advanceUntil(clock: TestClock, check: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
  const start = clock.now().getTime();
  while (!check()) {
    if (clock.now().getTime() - start > maxMs) throw new Error(`condition not met within ${maxMs} ms of test time`);
    await clock.advance(stepMs);
    await new Promise((r) => setImmediate(r));
  }
  return clock.now().getTime() - start;
}

describe("LeaderElector", () => {
  it("acquires a lease that does not exist yet and renews it every RetryPeriod", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const stop = new AbortController();
    const leadership = await a.elector.campaign(stop.signal);
    assert.ok(leadership);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(store.current?.record.holderIdentity, "a");
    assert.equal(store.current?.record.leaseDurationSeconds, 15);
    await advanceUntil(store.clock, () => store.writes.length >= 4, 10_000);
    const gaps = store.writes.slice(1).map((w, i) => w.at - store.writes[i]!.at);
    assert.ok(gaps.every((g) => g === 2000), `renewed every 2 s, got ${gaps}`);
    await leadership.release();
    stop.abort();
  });

  it("with two candidates exactly one leads while the leader renews", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const b = candidate(store, "b");
    const stop = new AbortController();
    const la = await a.elector.campaign(stop.signal);
    assert.ok(la);
    const lb = b.elector.campaign(stop.signal);
    const t0 = store.clock.now().getTime();
    await advanceUntil(store.clock, () => store.clock.now().getTime() - t0 > 60_000, 70_000, 250);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false, "b must not lead while a renews");
    assert.equal(b.elector.observedHolder(), "a");
    stop.abort();
    assert.equal(await lb, undefined, "an aborted campaign resolves undefined");
    await la.release();
  });

  it("a released lease is taken by the other candidate at its next retry, not after LeaseDuration", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const b = candidate(store, "b");
    const stop = new AbortController();
    const la = (await a.elector.campaign(stop.signal))!;
    let lb: Awaited<ReturnType<LeaderElector["campaign"]>>;
    void b.elector.campaign(stop.signal).then((l) => (lb = l));
    await store.clock.advance(5000);
    await la.release();
    assert.equal(la.signal.aborted, true);
    assert.equal(store.current?.record.holderIdentity, "");
    const took = await advanceUntil(store.clock, () => b.elector.isLeader(), 15_000);
    assert.ok(took <= 2000 + 50, `took over after ${took} ms`);
    assert.equal(store.current?.record.holderIdentity, "b");
    assert.equal(store.current?.record.leaseTransitions, 1);
    await lb!.release();
    stop.abort();
  });

  it("a leader that dies without releasing is replaced once LeaseDuration has passed since its last renew, not before", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const b = candidate(store, "b");
    const stopA = new AbortController();
    const stopB = new AbortController();
    const la = (await a.elector.campaign(stopA.signal))!;
    void b.elector.campaign(stopB.signal);
    await store.clock.advance(3000);
    stopA.abort(); // a's process is gone: no more renews, no release
    await new Promise((r) => setImmediate(r));
    assert.equal(la.signal.aborted, true);
    const lastRenewByA = store.writes.filter((w) => w.holder === "a").at(-1)!.at;
    await advanceUntil(store.clock, () => b.elector.isLeader(), 30_000);
    const takeover = store.writes.find((w) => w.holder === "b")!.at;
    assert.ok(takeover - lastRenewByA >= 15_000, `b took over ${takeover - lastRenewByA} ms after a's last renew`);
    // b judges expiry from when it saw the last change (up to one retry after it), then retries.
    assert.ok(takeover - lastRenewByA <= 15_000 + 2 * 2000 + 250, `b took over only ${takeover - lastRenewByA} ms after a's last renew`);
    stopB.abort();
  });

  for (const mode of ["fail", "hang"] as const) {
    it(`a leader whose lock starts to ${mode} stops leading within RenewDeadline, before anyone else can take the lease`, async () => {
      const store = new LeaseStore(new TestClock());
      const a = candidate(store, "a");
      const b = candidate(store, "b");
      const stop = new AbortController();
      const la = (await a.elector.campaign(stop.signal))!;
      let lost: LeadershipLostError | undefined;
      void la.lost.then((e) => (lost = e));
      let aStoppedAt: number | undefined;
      la.signal.addEventListener("abort", () => (aStoppedAt = store.clock.now().getTime()));
      void b.elector.campaign(stop.signal);
      await store.clock.advance(4000);
      a.state.mode = mode;
      const lastRenewByA = store.writes.filter((w) => w.holder === "a").at(-1)!.at;
      await advanceUntil(store.clock, () => b.elector.isLeader(), 30_000);
      assert.ok(aStoppedAt !== undefined, "a's leader signal aborted");
      assert.ok(lost instanceof LeadershipLostError);
      assert.equal(a.elector.isLeader(), false);
      assert.ok(aStoppedAt - lastRenewByA <= DEFAULT_LEADER_ELECTION.renewDeadlineMs, `a stopped ${aStoppedAt - lastRenewByA} ms after its last renew`);
      const bFirst = store.writes.find((w) => w.holder === "b")!.at;
      assert.ok(bFirst - lastRenewByA >= DEFAULT_LEADER_ELECTION.leaseDurationMs, "b waited for the lease to expire");
      assert.ok(aStoppedAt < bFirst, "never two leaders: a stopped before b wrote");
      stop.abort();
    });
  }

  it("a candidate whose write loses a race (conflict) does not lead and tries again", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const { lock } = store.view("racer");
    let raced = false;
    const racing: LeaseLock = {
      ...lock,
      update: async (record, rv, signal) => {
        if (!raced) {
          raced = true;
          // Someone else writes between our read and our write.
          store.current = { record: { ...store.current!.record, holderIdentity: "other" }, rv: store.current!.rv + 1 };
        }
        return lock.update(record, rv, signal);
      },
    };
    store.current = { record: { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: new Date(0), renewTime: new Date(0), leaseTransitions: 3 }, rv: 7 };
    const racer = new LeaderElector({ lock: racing, identity: "racer", clock: store.clock, log, random: () => 0 });
    const stop = new AbortController();
    let leadership: Awaited<ReturnType<LeaderElector["campaign"]>>;
    void racer.campaign(stop.signal).then((l) => (leadership = l));
    await new Promise((r) => setImmediate(r));
    assert.equal(racer.isLeader(), false, "a conflicting write is not leadership");
    assert.equal(store.current.record.holderIdentity, "other");
    assert.equal(a.elector.isLeader(), false);
    stop.abort();
    assert.equal(leadership!, undefined);
  });

  describe("durations", () => {
    const table = [
      { d: DEFAULT_LEADER_ELECTION, error: undefined },
      { d: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }, error: /^leaseDuration: must be greater than renewDeadline/ },
      { d: { leaseDurationMs: 15_000, renewDeadlineMs: 2400, retryPeriodMs: 2000 }, error: /^renewDeadline: must be greater than 1.2 × retryPeriod/ },
      { d: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }, error: /^retryPeriod: must be a positive duration/ },
      { d: { leaseDurationMs: Number.NaN, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }, error: /^leaseDuration: must be a positive duration/ },
    ];
    for (const { d, error } of table) {
      it(`${d.leaseDurationMs}/${d.renewDeadlineMs}/${d.retryPeriodMs} ms is ${error ? "rejected naming the flag" : "accepted"}`, () => {
        if (error) assert.throws(() => validateLeaderElection(d), (e: Error & { retryable?: boolean }) => error.test(e.message) && e.retryable === false);
        else assert.deepEqual(validateLeaderElection(d), d);
      });
    }
  });
});

describe("LeaderElector: what renew and release write", () => {
  it("a renew keeps the acquire time and the transitions; a release writes an empty holder with a 1 s duration", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const stop = new AbortController();
    const la = (await a.elector.campaign(stop.signal))!;
    const acquired = store.current!.record.acquireTime.getTime();
    await advanceUntil(store.clock, () => store.writes.length >= 3, 10_000);
    assert.equal(store.current!.record.acquireTime.getTime(), acquired);
    assert.ok(store.current!.record.renewTime.getTime() > acquired);
    assert.equal(store.current!.record.leaseTransitions, 0);
    await la.release();
    assert.equal(store.current!.record.holderIdentity, "");
    assert.equal(store.current!.record.leaseDurationSeconds, 1);
    stop.abort();
  });

  it("release never clears a lease another candidate now holds (positive control: its own is cleared)", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const stop = new AbortController();
    const la = (await a.elector.campaign(stop.signal))!;
    store.current = { record: { ...store.current!.record, holderIdentity: "b" }, rv: store.current!.rv + 1 };
    await la.release();
    assert.equal(store.current.record.holderIdentity, "b");
    stop.abort();
  });

  it("after losing the lease, release writes nothing, even once the lock answers again", async () => {
    const store = new LeaseStore(new TestClock());
    const a = candidate(store, "a");
    const stop = new AbortController();
    const la = (await a.elector.campaign(stop.signal))!;
    a.state.mode = "fail";
    await advanceUntil(store.clock, () => !a.elector.isLeader(), 15_000);
    assert.ok((await la.lost) instanceof LeadershipLostError);
    a.state.mode = "ok";
    const writes = store.writes.length;
    await la.release();
    assert.equal(store.writes.length, writes);
    assert.equal(store.current!.record.holderIdentity, "a");
    stop.abort();
  });
});

describe("LeaderElector: the renew deadline when it is not a multiple of RetryPeriod", () => {
  it("stops leading at RenewDeadline after the last good renew, not at the next RetryPeriod tick after it", async () => {
    const store = new LeaseStore(new TestClock());
    const { lock, state } = store.view("a");
    const elector = new LeaderElector({ lock, identity: "a", clock: store.clock, log, random: () => 0, durations: { leaseDurationMs: 15_000, renewDeadlineMs: 5_000, retryPeriodMs: 2_000 } });
    const stop = new AbortController();
    const la = (await elector.campaign(stop.signal))!;
    state.mode = "fail";
    const took = await advanceUntil(store.clock, () => !elector.isLeader(), 15_000, 50);
    assert.ok(took <= 5_000 + 50, `stopped leading ${took} ms after the last renew`);
    assert.ok(took >= 5_000 - 50, `stopped leading ${took} ms after the last renew, before its deadline`);
    await la.release();
    stop.abort();
  });
});
