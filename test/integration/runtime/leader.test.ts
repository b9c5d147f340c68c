import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CoordinationV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { KubeLeaseLock } from "../../../operator/src/kube/index.ts";
import { LeaderElector, LeadershipLostError, systemClock, waitFor } from "../../../operator/src/runtime/index.ts";
import type { LeaseLock } from "../../../operator/src/runtime/index.ts";
import { createNamespace, deleteNamespace, hostKubeConfig } from "./helpers.ts";

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
/** Short but valid: 3 s > 2 s > 1.2 × 0.5 s. */
const durations = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

/** A real lock that a test can make fail, as a partition between one candidate and the API server would. */
function breakable(lock: LeaseLock) {
  const state = { broken: false };
  const guard = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => (...a: A) =>
    state.broken ? Promise.reject(Object.assign(new Error("connection refused"), { retryable: true })) : f(...a);
  const wrapped: LeaseLock = {
    description: lock.description,
    get: guard((s: AbortSignal) => lock.get(s)),
    create: guard((r, s) => lock.create(r, s)),
    update: guard((r, v, s) => lock.update(r, v, s)),
  };
  return { lock: wrapped, state };
}

describe("leader election on a real Lease", function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  const ns = `leader-${randomBytes(3).toString("hex")}`;
  let leaseName: string;
  const stops: AbortController[] = [];

  before(async () => {
    kc = hostKubeConfig();
    await createNamespace(kc, ns);
  });
  beforeEach(() => {
    leaseName = `lease-${randomBytes(3).toString("hex")}`;
  });
  afterEach(() => {
    for (const s of stops.splice(0)) s.abort();
  });
  after(() => deleteNamespace(kc, ns));

  const holder = async () =>
    (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: leaseName })).spec?.holderIdentity ?? "";

  function candidate(identity: string) {
    const { lock, state } = breakable(new KubeLeaseLock({ kubeConfig: kc, namespace: ns, name: leaseName }));
    const elector = new LeaderElector({ lock, identity, durations, clock: systemClock, log });
    const stop = new AbortController();
    stops.push(stop);
    const leadership = elector.campaign(stop.signal);
    return { elector, state, stop, leadership };
  }

  /** Samples both electors until `check` holds, failing at once if both ever lead together. */
  async function watchPair(a: LeaderElector, b: LeaderElector, what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
    await waitFor(async () => {
      assert.ok(!(a.isLeader() && b.isLeader()), "two leaders at once");
      return check();
    }, { what, timeoutMs, intervalMs: 20 });
  }

  it("exactly one of two candidates leads, and the Lease names it", async () => {
    const a = candidate("a");
    const b = candidate("b");
    await watchPair(a.elector, b.elector, "a leader", () => a.elector.isLeader() || b.elector.isLeader());
    // Hold for two lease durations: the leader renews, the other never leads.
    const first = a.elector.isLeader() ? "a" : "b";
    const until = Date.now() + 2 * durations.leaseDurationMs;
    await watchPair(a.elector, b.elector, "two lease durations", () => Date.now() > until, 10_000);
    assert.equal(await holder(), first);
    assert.equal((first === "a" ? a : b).elector.isLeader(), true);
  });

  it("a leader that releases is replaced at once, not after the lease expires", async () => {
    const a = candidate("a");
    const la = (await a.leadership)!;
    const b = candidate("b");
    await new Promise((r) => setTimeout(r, 0));
    const released = Date.now();
    await la.release();
    assert.equal(la.signal.aborted, true);
    await watchPair(a.elector, b.elector, "b leads", () => b.elector.isLeader());
    const took = Date.now() - released;
    assert.ok(took < durations.leaseDurationMs, `b took ${took} ms, should be about one retry period`);
    assert.equal(await holder(), "b");
  });

  it("a leader that dies without releasing is replaced once the lease has expired", async () => {
    const a = candidate("a");
    const la = (await a.leadership)!;
    const b = candidate("b");
    await watchPair(a.elector, b.elector, "b sees a as holder", () => b.elector.observedHolder() === "a");
    const died = Date.now();
    a.stop.abort(); // no release: the Lease still names a
    assert.equal(la.signal.aborted, true);
    assert.equal(await holder(), "a");
    await watchPair(a.elector, b.elector, "b leads", () => b.elector.isLeader());
    const took = Date.now() - died;
    assert.ok(took >= durations.leaseDurationMs - durations.retryPeriodMs, `b took over after ${took} ms, before a's lease could have expired`);
    assert.equal(await holder(), "b");
  });

  it("a leader cut off from the API server stops leading before the other candidate takes over", async () => {
    const a = candidate("a");
    const la = (await a.leadership)!;
    let aStopped = 0;
    la.signal.addEventListener("abort", () => (aStopped = Date.now()));
    const b = candidate("b");
    await watchPair(a.elector, b.elector, "b sees a as holder", () => b.elector.observedHolder() === "a");
    a.state.broken = true;
    const cut = Date.now();
    await watchPair(a.elector, b.elector, "b leads", () => b.elector.isLeader());
    const bLeads = Date.now();
    assert.ok(aStopped > 0, "a's leader signal aborted");
    assert.ok(la.signal.reason instanceof LeadershipLostError);
    // What matters is that a stops before b leads (below); the bound only says a gives up about
    // when its renew deadline passes, with room for a retry period and a loaded machine's stalls.
    assert.ok(aStopped - cut <= durations.renewDeadlineMs + durations.retryPeriodMs + 1500, `a stopped ${aStopped - cut} ms after the cut`);
    assert.ok(aStopped < bLeads, "a stopped before b led");
    assert.equal(await holder(), "b");
  });
});
