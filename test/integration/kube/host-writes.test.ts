import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { GROUP, VERSION } from "../../../operator/src/api/index.ts";
import type { SovereignWorkload } from "../../../operator/src/api/index.ts";
import { OwnWrites, schedulingPredicate } from "../../../operator/src/controllers/index.ts";
import { ConflictError, KubeHostApi, loadKubeConfig, sovereignWorkloadInformer } from "../../../operator/src/kube/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import type { WatchEvent } from "../../../operator/src/runtime/index.ts";
import { startComponent, stopComponent } from "../../../hack/lib/federation/index.ts";
import { federationStateDir, readFederationEnv, repoRoot } from "../env.ts";
import { createNamespace, deleteNamespace, hostKubeConfig } from "../runtime/helpers.ts";

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** Established TCP connections of this process to `port` on loopback, from /proc (what `ss -tnp` reads). */
function establishedTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2]!.split(":")[1]!, 16);
      if (remotePort === port && f[3] === "01" && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

/**
 * The most connections seen while `burst` runs (sampled every few ms), above those this
 * process held before it (the suite's own admin client, connections still kept alive).
 */
async function peakConnections(port: number, burst: () => Promise<unknown>): Promise<number> {
  const before = establishedTo(port);
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, establishedTo(port)); }, 2);
  try {
    await burst();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, establishedTo(port)) - before;
}

describe("the control plane's host client", function () {
  this.timeout(120_000);
  const suffix = randomBytes(3).toString("hex");
  const ns = `host-writes-${suffix}`;
  let admin: KubeConfig;
  let apiPort: number;

  before(async () => {
    admin = hostKubeConfig();
    apiPort = Number(new URL(admin.getCurrentCluster()!.server).port);
    await createNamespace(admin, ns);
  });
  after(async () => {
    await deleteNamespace(admin, ns);
  });

  it("keeps a burst of 100 concurrent requests on a few kept-alive connections (positive control: client-node's own KubeConfig opens one per request)", async () => {
    const kubeconfigFile = readFederationEnv().hostKubeconfig;
    const burst = (host: KubeHostApi) => () => Promise.all(Array.from({ length: 100 }, () => host.listMemberClusters()));

    const shared = loadKubeConfig({ kubeconfigFile });
    const sharedPeak = await peakConnections(apiPort, burst(new KubeHostApi({ kubeConfig: shared })));
    // A second burst reuses what the first opened.
    const sharedAgain = await peakConnections(apiPort, burst(new KubeHostApi({ kubeConfig: shared })));

    const plain = hostKubeConfig();
    const plainPeak = await peakConnections(apiPort, burst(new KubeHostApi({ kubeConfig: plain })));
    console.log(`      connections opened to the host API server by 100 concurrent requests: shared ${sharedPeak} then ${sharedAgain}, per-request ${plainPeak}`);
    assert.ok(sharedPeak <= 4, `shared dispatcher: ${sharedPeak} connections`);
    assert.ok(sharedAgain <= 4, `shared dispatcher, second burst: ${sharedAgain} connections`);
    assert.ok(plainPeak >= 20, `the control without sharing should open many connections, saw ${plainPeak}`);
  });

  it("records a named Event once however often it is created, and an unnamed one each time (positive control)", async () => {
    const host = new KubeHostApi({ kubeConfig: loadKubeConfig({ kubeconfigFile: readFederationEnv().hostKubeconfig }) });
    const core = admin.makeApiClient(CoreV1Api);
    const event = (name?: string) => ({
      involved: { kind: "SovereignWorkload" as const, name: "evented", namespace: ns }, type: "Warning" as const, reason: "NamedOnce",
      message: "once", reportingController: "host-writes-test", reportingInstance: "t", at: new Date(), ...(name ? { name } : {}),
    });
    const count = async (reason: string) => (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === reason && e.involvedObject.name === "evented").length;
    await host.createEvent(event(`evented.named-${suffix}`));
    await host.createEvent(event(`evented.named-${suffix}`));
    assert.equal(await count("NamedOnce"), 1, "the second create of the same name is a no-op, not an error");
    await host.createEvent({ ...event(), reason: "Unnamed" });
    await host.createEvent({ ...event(), reason: "Unnamed" });
    assert.equal(await count("Unnamed"), 2, "without a name, each create is an Event");
  });

  it("drops the echo of its own finalizer and status writes, and still sees a spec change and a label change", async () => {
    const kc = loadKubeConfig({ kubeconfigFile: readFederationEnv().hostKubeconfig });
    const host = new KubeHostApi({ kubeConfig: kc });
    const api = admin.makeApiClient(CustomObjectsApi);
    const informer = sovereignWorkloadInformer({ kubeConfig: kc, log });
    const own = new OwnWrites();
    const pass = schedulingPredicate(own);
    const passed: WatchEvent<SovereignWorkload>[] = [];
    const woken: string[] = [];
    own.onWake((k) => woken.push(k));
    const key = `${ns}/web`;
    informer.onEvent((e) => {
      if (`${e.object.metadata.namespace}/${e.object.metadata.name}` === key && pass(e)) passed.push(e);
    });
    const stop = new AbortController();
    const running = informer.start(stop.signal);
    // The federation's control plane would write to this workload too (its finalizer, its
    // status): stopped for this test, the writes here are the only ones; started again after.
    const lib = { root: repoRoot, stateDir: federationStateDir(), component: "control-plane" };
    await stopComponent(lib);
    try {
      await informer.waitForSync(AbortSignal.timeout(30_000));
      await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads", body: {
        apiVersion: `${GROUP}/${VERSION}`, kind: "SovereignWorkload", metadata: { name: "web", namespace: ns },
        spec: { replicas: 1, residencyPolicy: `absent-${suffix}`, placement: { mode: "Divided" }, residency: { allowedCountries: ["FR"] },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "registry.example.eu/web:1" }] } } },
      } });
      const created = await waitFor(() => informer.get(key), { what: "workload in cache", timeoutMs: 20_000, intervalMs: 20 });
      assert.deepEqual(passed.map((e) => e.kind), ["create"]);
      // Each check below names the versions this test wrote, not the count of what passed.
      const passedAt = (rv: string | undefined) => passed.some((e) => e.object.metadata.resourceVersion === rv);

      // What a first reconcile writes: the finalizer, then the status.
      // Tracked as the reconciler tracks them: an echo may come through the watch before the write's response.
      const fin = await own.track(key, host.setSovereignWorkloadFinalizers({ namespace: ns, name: "web", finalizers: ["sovereignty.eu/member-cleanup"], resourceVersion: created.metadata.resourceVersion! }));
      const st = await own.track(key, host.applySovereignWorkloadStatus({ namespace: ns, name: "web", fieldManager: "sovereign-control-plane", status: {
        observedGeneration: 1, replicas: 1, readyReplicas: 0, placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 1, readyReplicas: 0 }],
      } }));
      assert.ok(fin.resourceVersion && st.resourceVersion && fin.resourceVersion !== st.resourceVersion);
      // The federation's own status aggregator may merge readiness in right after (a later version).
      const seen = (rv: string | undefined) => Number(informer.get(key)?.metadata.resourceVersion ?? 0) >= Number(rv) || undefined;
      await waitFor(() => seen(st.resourceVersion), { what: "the status echo", timeoutMs: 20_000, intervalMs: 20 });
      assert.ok(!passedAt(fin.resourceVersion) && !passedAt(st.resourceVersion), "the two echoes woke nothing");
      assert.ok(!woken.includes(key) || passed.length > 1, "an echo woke the key");

      // Another writer's readiness-only status change (the aggregator's) wakes nothing either.
      // Read fresh and retried on a conflict.
      const ready = await waitFor(async () => {
        const latest = (await host.getSovereignWorkload(ns, "web"))!;
        return host.updateSovereignWorkloadStatus({ namespace: ns, name: "web", fieldManager: "sovereign-status-aggregator", resourceVersion: latest.metadata.resourceVersion!, status: {
          ...latest.status, readyReplicas: 1, placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 1, readyReplicas: 1 }],
        } }).catch((err: unknown) => {
          if (err instanceof ConflictError) return undefined;
          throw err;
        });
      }, { what: "the readiness write", timeoutMs: 20_000, intervalMs: 100 });
      await waitFor(() => seen(ready.resourceVersion), { what: "the readiness write", timeoutMs: 20_000, intervalMs: 20 });
      assert.ok(!passedAt(ready.resourceVersion), "a readiness-only status write woke the scheduler");

      // Positive controls: a user's spec change and label change are seen.
      await api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads", name: "web", body: { spec: { replicas: 2 } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
      await waitFor(() => passed.some((e) => e.object.metadata.generation === 2) || undefined, { what: "the spec change passes", timeoutMs: 20_000, intervalMs: 20 });
      await api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads", name: "web", body: { metadata: { labels: { team: "records" } } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
      await waitFor(() => passed.some((e) => e.object.metadata.labels?.team === "records") || undefined, { what: "the label change passes", timeoutMs: 20_000, intervalMs: 20 });

      // The status aggregator's write from a copy older than the newest is refused by the API server.
      await assert.rejects(
        host.updateSovereignWorkloadStatus({ namespace: ns, name: "web", fieldManager: "sovereign-status-aggregator", resourceVersion: st.resourceVersion!, status: { readyReplicas: 0, placements: [] } }),
        ConflictError,
      );
      const now = (await host.getSovereignWorkload(ns, "web"))!;
      assert.deepEqual(now.status?.placements?.map((p) => p.cluster), ["ovh-par-1"], "the stale write changed nothing");
    } finally {
      await host.setSovereignWorkloadFinalizers({ namespace: ns, name: "web", finalizers: [], resourceVersion: "" }).catch(() => undefined);
      stop.abort();
      await running;
      await startComponent({ ...lib, timeoutMs: 120_000 });
    }
  });
});
