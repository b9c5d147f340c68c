import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CoordinationV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { configMapInformer, KubeLeaseLock } from "../../../operator/src/kube/index.ts";
import { LeadershipLostError, Manager, systemClock, waitFor } from "../../../operator/src/runtime/index.ts";
import type { LeaseLock, Runnable } from "../../../operator/src/runtime/index.ts";
import { createNamespace, deleteNamespace, hostKubeConfig, startRelay, withServer } from "./helpers.ts";

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const durations = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

/** A leader-only runnable that records when it ran and whether it was told to stop. */
function writer(name = "writer") {
  const state = { started: 0, stopped: 0, running: false };
  const runnable: Runnable = {
    name,
    needLeaderElection: true,
    async start(signal) {
      state.started++;
      state.running = true;
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      state.running = false;
      state.stopped++;
    },
  };
  return { runnable, state };
}

async function get(port: number, path: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

describe("Manager against the host API server", function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  const ns = `manager-${randomBytes(3).toString("hex")}`;

  before(async () => {
    kc = hostKubeConfig();
    await createNamespace(kc, ns);
  });
  after(() => deleteNamespace(kc, ns));

  const holder = async (name: string) =>
    (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name })).spec?.holderIdentity ?? "";

  it("serves /healthz at once, /readyz only after its caches synced, /metrics from its source; leads, and on stop releases the lease", async () => {
    const relay = await startRelay(kc.getCurrentCluster()!.server);
    relay.hang(); // the informer cannot sync until the relay is restored
    const leaseName = `mgr-${randomBytes(3).toString("hex")}`;
    const manager = new Manager({
      clock: systemClock, log, healthAddress: "127.0.0.1:0",
      leaderElection: { lock: new KubeLeaseLock({ kubeConfig: kc, namespace: ns, name: leaseName }), identity: "m1", durations },
      metrics: { contentType: "text/plain; version=0.0.4", metrics: async () => "workqueue_depth{name=\"x\",controller=\"x\"} 0\n" },
    });
    const informer = configMapInformer({ kubeConfig: withServer(kc, relay.url), log, namespace: ns, watchdogMs: 60_000 });
    manager.add(informer);
    const w = writer();
    manager.add(w.runnable);
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    try {
      const port = await waitFor(() => manager.port, { what: "manager listening", timeoutMs: 10_000, intervalMs: 10 });
      assert.equal((await get(port, "/healthz")).status, 200);
      const notReady = await get(port, "/readyz");
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, /configmaps/);
      assert.equal(w.state.started, 0, "leader-only work waits for the caches");
      relay.restore();
      await waitFor(async () => (await get(port, "/readyz")).status === 200, { what: "/readyz 200", timeoutMs: 30_000, intervalMs: 50 });
      await waitFor(() => w.state.running, { what: "writer started", timeoutMs: 10_000, intervalMs: 20 });
      assert.equal(manager.isLeader(), true);
      assert.equal(await holder(leaseName), "m1");
      const metrics = await get(port, "/metrics");
      assert.equal(metrics.status, 200);
      assert.equal(metrics.type, "text/plain; version=0.0.4");
      assert.match(metrics.body, /^workqueue_depth/);

      stop.abort();
      await done;
      assert.equal(w.state.stopped, 1, "leader-only work was stopped");
      assert.equal(await holder(leaseName), "", "the lease was released on a graceful stop");
      await assert.rejects(get(port, "/healthz"), "the server is closed");
    } finally {
      stop.abort();
      await done.catch(() => undefined);
      await relay.close();
    }
  });

  it("a second manager on the same lease runs no leader-only work until the first stops, then takes over at once", async () => {
    const leaseName = `mgr-${randomBytes(3).toString("hex")}`;
    const make = (identity: string) => {
      const m = new Manager({
        clock: systemClock, log, healthAddress: "127.0.0.1:0",
        leaderElection: { lock: new KubeLeaseLock({ kubeConfig: kc, namespace: ns, name: leaseName }), identity, durations },
      });
      const w = writer();
      m.add(w.runnable);
      const stop = new AbortController();
      return { m, w, stop, done: m.start(stop.signal) };
    };
    const first = make("first");
    await waitFor(() => first.w.state.running, { what: "first leads", timeoutMs: 10_000, intervalMs: 20 });
    const second = make("second");
    try {
      // Several retry periods: the second never starts its writer while the first renews.
      const until = Date.now() + 4 * durations.retryPeriodMs;
      await waitFor(() => {
        assert.equal(second.w.state.started, 0, "second wrote while first led");
        return Date.now() > until;
      }, { what: "a few retry periods", timeoutMs: 10_000, intervalMs: 20 });
      assert.equal(second.m.isLeader(), false);
      first.stop.abort();
      await first.done;
      const stopped = Date.now();
      await waitFor(() => second.w.state.running, { what: "second leads", timeoutMs: 10_000, intervalMs: 20 });
      assert.ok(Date.now() - stopped < durations.leaseDurationMs, "took over on release, before expiry");
      assert.ok(!first.w.state.running);
    } finally {
      first.stop.abort();
      second.stop.abort();
      await Promise.allSettled([first.done, second.done]);
    }
  });

  it("losing the lease stops leader-only work and makes start reject, without writing the lease again", async () => {
    const leaseName = `mgr-${randomBytes(3).toString("hex")}`;
    const real = new KubeLeaseLock({ kubeConfig: kc, namespace: ns, name: leaseName });
    const cut = { on: false };
    const lock: LeaseLock = {
      description: real.description,
      get: (s) => (cut.on ? Promise.reject(new Error("connection refused")) : real.get(s)),
      create: (r, s) => (cut.on ? Promise.reject(new Error("connection refused")) : real.create(r, s)),
      update: (r, v, s) => (cut.on ? Promise.reject(new Error("connection refused")) : real.update(r, v, s)),
    };
    const manager = new Manager({ clock: systemClock, log, healthAddress: "127.0.0.1:0", leaderElection: { lock, identity: "m", durations } });
    const w = writer();
    manager.add(w.runnable);
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    try {
      await waitFor(() => w.state.running, { what: "leading", timeoutMs: 10_000, intervalMs: 20 });
      cut.on = true;
      const err = await done.then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof LeadershipLostError, `start rejected with ${String(err)}`);
      assert.equal(w.state.stopped, 1);
      assert.equal(manager.isLeader(), false);
      cut.on = false;
      assert.equal(await holder(leaseName), "m", "a lost lease is not released (it is not ours to write any more)");
    } finally {
      stop.abort();
      await done.catch(() => undefined);
    }
  });
});
