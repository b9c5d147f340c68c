import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { pino } from "pino";
import { configMapInformer } from "../../../operator/src/kube/index.ts";
import type { KubeInformer } from "../../../operator/src/kube/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { createNamespace, deleteNamespace, hostKubeConfig, startRelay, withServer } from "./helpers.ts";

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** Everything the handlers saw, as "key resourceVersion-or-deleted" lines. */
function record(informer: KubeInformer<V1ConfigMap>) {
  const seen: { key: string; data: string | undefined; deleted: boolean }[] = [];
  informer.onChange((obj) => {
    const key = `${obj.metadata!.namespace}/${obj.metadata!.name}`;
    seen.push({ key, data: obj.data?.v, deleted: informer.get(key) === undefined });
  });
  return seen;
}

describe("KubeInformer against the host API server", function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let core: CoreV1Api;
  const ns = `informer-${randomBytes(3).toString("hex")}`;
  const stops: AbortController[] = [];

  before(async () => {
    kc = hostKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    await createNamespace(kc, ns);
  });
  after(async () => {
    for (const s of stops) s.abort();
    await deleteNamespace(kc, ns);
  });

  const put = (name: string, v: string) =>
    core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { test: "informer" } }, data: { v } } });
  const change = (name: string, v: string) =>
    core.patchNamespacedConfigMap({ namespace: ns, name, body: [{ op: "replace", path: "/data/v", value: v }] });
  const remove = (name: string) => core.deleteNamespacedConfigMap({ namespace: ns, name });
  const until = (what: string, check: () => boolean, timeoutMs = 30_000) => waitFor(() => check(), { what, timeoutMs, intervalMs: 50 });

  function run(informer: KubeInformer<V1ConfigMap>) {
    const stop = new AbortController();
    stops.push(stop);
    const done = informer.start(stop.signal);
    return { stop, done };
  }

  it("syncs, then sees an add, an update and a delete of a real object", async () => {
    await put("before-start", "0");
    const informer = configMapInformer({ kubeConfig: kc, log, namespace: ns, labelSelector: "test=informer" });
    const seen = record(informer);
    assert.equal(informer.hasSynced(), false);
    const { stop, done } = run(informer);
    await informer.waitForSync(AbortSignal.timeout(30_000));
    assert.equal(informer.hasSynced(), true);
    assert.equal(informer.get(`${ns}/before-start`)?.data?.v, "0", "the first list is in the cache at sync");
    await put("a", "1");
    await until("add of a", () => informer.get(`${ns}/a`)?.data?.v === "1");
    await change("a", "2");
    await until("update of a", () => informer.get(`${ns}/a`)?.data?.v === "2");
    await remove("a");
    await until("delete of a", () => informer.get(`${ns}/a`) === undefined);
    assert.deepEqual(seen.filter((s) => s.key === `${ns}/a`), [
      { key: `${ns}/a`, data: "1", deleted: false },
      { key: `${ns}/a`, data: "2", deleted: false },
      { key: `${ns}/a`, data: "2", deleted: true },
    ]);
    stop.abort();
    await done;
    await remove("before-start");
  });

  it("after its connection is cut it restarts by itself and reports what was deleted and added meanwhile", async () => {
    const relay = await startRelay(kc.getCurrentCluster()!.server);
    try {
      await put("stays", "s");
      await put("goes", "g");
      const informer = configMapInformer({
        kubeConfig: withServer(kc, relay.url), log, namespace: ns, labelSelector: "test=informer",
        restartBackoff: { initialMs: 200, maxMs: 1000 },
      });
      const seen = record(informer);
      const { stop, done } = run(informer);
      await informer.waitForSync(AbortSignal.timeout(30_000));
      assert.ok(informer.get(`${ns}/goes`));
      const restartsBefore = informer.restarts;

      relay.cut(); // client-node's ListWatch stops on this error; ours must come back
      await remove("goes");
      await put("new", "n");
      await change("stays", "s2");
      // Positive control: while the network is cut the informer has not seen any of it.
      assert.ok(informer.get(`${ns}/goes`), "the cache still has the object deleted during the outage");
      relay.restore();

      await until("delete seen after restart", () => informer.get(`${ns}/goes`) === undefined);
      await until("add seen after restart", () => informer.get(`${ns}/new`)?.data?.v === "n");
      await until("update seen after restart", () => informer.get(`${ns}/stays`)?.data?.v === "s2");
      assert.ok(informer.restarts > restartsBefore, "a new round was started");
      assert.ok(seen.some((s) => s.key === `${ns}/goes` && s.deleted), "handlers were told about the delete");
      stop.abort();
      await done;
    } finally {
      await relay.close();
      await Promise.all(["stays", "new"].map((n) => remove(n).catch(() => undefined)));
    }
  });

  it("a watch that hangs silently is restarted by the watchdog", async () => {
    const relay = await startRelay(kc.getCurrentCluster()!.server);
    try {
      const informer = configMapInformer({
        kubeConfig: withServer(kc, relay.url), log, namespace: ns, labelSelector: "test=informer",
        watchdogMs: 1500, restartBackoff: { initialMs: 100, maxMs: 500 },
      });
      // The first list cannot complete: the relay accepts and forwards nothing.
      relay.hang();
      const { stop, done } = run(informer);
      await until("watchdog restarts the hung round", () => informer.restarts >= 2, 20_000);
      assert.equal(informer.hasSynced(), false);
      relay.restore();
      await informer.waitForSync(AbortSignal.timeout(30_000));
      await put("after-hang", "h");
      await until("events flow after the watchdog restart", () => informer.get(`${ns}/after-hang`) !== undefined);
      stop.abort();
      await done;
    } finally {
      await relay.close();
      await remove("after-hang").catch(() => undefined);
    }
  });

  it("a periodic relist notifies handlers of every object, unchanged ones included", async () => {
    await put("quiet", "q");
    const informer = configMapInformer({ kubeConfig: kc, log, namespace: ns, labelSelector: "test=informer", relistIntervalMs: 1000 });
    const seen = record(informer);
    const { stop, done } = run(informer);
    await informer.waitForSync(AbortSignal.timeout(30_000));
    const first = seen.filter((s) => s.key === `${ns}/quiet`).length;
    assert.equal(first, 1);
    await until("resync of an unchanged object", () => seen.filter((s) => s.key === `${ns}/quiet`).length >= 3, 20_000);
    assert.ok(seen.filter((s) => s.key === `${ns}/quiet`).every((s) => s.data === "q" && !s.deleted));
    stop.abort();
    await done;
    await remove("quiet");
  });
});
