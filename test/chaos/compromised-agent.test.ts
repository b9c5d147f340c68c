import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import type { WorkloadStatus } from "../../operator/src/federation/index.ts";
import { codecs, ensureMemberStreams, ensureSharedStreams, inboxPrefix, streams, subjects } from "../../operator/src/federation/index.ts";
import type { FederationClient } from "../../operator/src/federation/index.ts";
import { BOOTSTRAP_ANNOTATIONS, BOOTSTRAP_NAMESPACE, createBootstrapToken, FederationGrpcClient, secretNameOf } from "../../operator/src/federation/grpc/index.ts";
import { KubeHostApi } from "../../operator/src/kube/index.ts";
import { readState } from "../../hack/lib/federation/state.ts";
import { sampleHeartbeat } from "../support/samples.ts";
import { federationStateDir } from "../integration/env.ts";
import { assertDenied, assertRequestDenied, assertSubscribeDenied, connectAs, ensureMemberClusters } from "../integration/federation/helpers.ts";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { Members, runScenario, settle } from "./support/chaos.ts";

/**
 * A compromised agent: whoever holds the `fr` member's NATS seed and gRPC certificate (what
 * a member's agent is given) tries to act as `de`: read de's intents, speak for de
 * (its status and heartbeats), join as de, and feed the control plane forged and garbage
 * statuses of a workload fr does not run. Each attempt is refused by nats-server's
 * permissions or gRPC's, or dropped by the control plane and counted in
 * sovereign_status_reports_dropped_total; the control plane never restarts, de's genuine
 * reports are still taken (the positive control), and the real workload on an agent
 * member keeps its very pods. de has no agent in the local federation: this test is its
 * agent (heartbeats and status), as the security integration tests are fr's.
 */
const LABEL = "chaos-compromised.sovereignty.eu/member";

/** Bytes that are no WorkloadStatus at all (checked: the codec refuses each). */
const GARBAGE = [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from('{"cluster":"de","readyReplicas":2}'), Buffer.from([0x0a, 0x50, 0x41])];

/** The control plane's counts of dropped statuses (or heartbeats) by reason. */
async function dropped(url: string, family = "sovereign_status_reports_dropped_total"): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const series = new RegExp(`^${family}\\{reason="(\\w+)"\\} (\\S+)$`);
  for (const line of (await (await fetch(url)).text()).split("\n")) {
    const m = series.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

function controlPlanePid(): number {
  const p = readState(federationStateDir())?.processes.find((x) => x.component === "control-plane");
  if (!p) throw new Error("no recorded control-plane in the federation's state");
  return p.pid;
}

async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof Error && typeof (err as ServiceError).code === "number", `expected a gRPC error, got ${String(err)}`);
  return err as ServiceError;
}

describe("chaos: a compromised agent (the fr identity) tries to act as de", function () {
  this.timeout(300_000);
  const ns = "chaos-compromised";
  let world: World;
  let members: Members;
  let fr: FederationClient;
  let de: FederationClient;
  let cp: FederationClient;
  let heartbeats: NodeJS.Timeout | undefined;
  let deUid = "";
  const grpcClients: FederationGrpcClient[] = [];

  const grpc = (identity: "fr" | "de") => {
    const c = new FederationGrpcClient({
      address: world.env.vars.CONTROL_PLANE_GRPC_ADDRESS!, serverName: "localhost", deadlineMs: 15_000,
      tls: { caPem: readFileSync(world.env.vars.GRPC_CA!), certPem: readFileSync(world.env.vars[`GRPC_CERT_${identity.toUpperCase()}`]!), keyPem: readFileSync(world.env.vars[`GRPC_KEY_${identity.toUpperCase()}`]!) },
    });
    grpcClients.push(c);
    return c;
  };

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
    ensureMemberClusters(world.env);
    fr = await connectAs(world.env, { member: "fr" });
    de = await connectAs(world.env, { member: "de" });
    cp = await connectAs(world.env, "control-plane");
    // The streams the control plane makes for a member that joins: de's agent never joined here.
    const jsm = await cp.manager();
    await ensureSharedStreams(jsm);
    for (const m of ["fr", "de"]) await ensureMemberStreams(jsm, m);
    // de's agent's heartbeats, so that de is Ready and is given its workload.
    let sequence = 0;
    const beat = () => void de.publish.heartbeat(sampleHeartbeat({ cluster: "de", sentAt: new Date(), sequence: ++sequence })).catch(() => undefined);
    beat();
    heartbeats = setInterval(beat, 1000);
    world.kubectl(["label", "membercluster", "de", `${LABEL}=de`, "--overwrite"]);
    await world.untilMemberReady("de", true, 60_000);
  });

  after(async function () {
    const deleteDeWorkload = async () => {
      world.kubectl(["delete", "swl/de-app", "-n", ns, "--wait=false", "--ignore-not-found"]);
      const w = await world.workload(ns, "de-app");
      // de says it removed its replicas, so the finalizer can go while de is still Ready.
      if (w?.metadata.uid) {
        await de.publish.status({
          cluster: "de", workload: { namespace: ns, name: "de-app", uid: w.metadata.uid }, observedGeneration: w.metadata.generation ?? 1,
          desiredReplicas: 0, readyReplicas: 0, podPhases: {}, reportedAt: new Date(), message: "",
        });
        await world.until("de-app gone", async () => (await world.workload(ns, "de-app")) === undefined, 90_000);
      }
    };
    const stop = async () => {
      clearInterval(heartbeats);
      world.kubectl(["label", "membercluster", "de", `${LABEL}-`]);
      // de has no agent: it must be NotReady again before the next file, or that file's workloads could be placed there.
      await world.untilMemberReady("de", false, 90_000);
      for (const c of grpcClients) c.close();
      // What fr published on its own status subjects would be read again at the control plane's next start.
      await (await cp.manager()).streams.purge(streams.status("fr")).catch(() => undefined);
      await Promise.allSettled([fr?.drain(), de?.drain(), cp?.drain()]);
    };
    await world?.finish({ namespace: ns, cleanup: [deleteDeWorkload, stop] });
  });

  it("each attempt refused by NATS or gRPC permissions or dropped and counted; the control plane stays up; de's genuine status is still taken", async function () {
    await runScenario({ name: "compromised agent (fr acting as de)", world, members }, async (sc) => {
      const metricsUrl = world.env.controlPlaneMetricsUrl;
      const pid = controlPlanePid();

      // A real workload on agent members (French and HDS-certified: never de): its pods must come through untouched.
      world.apply([workloadManifest({ namespace: ns, name: "bystander", replicas: 2, policy: "health-fr-hds" })]);
      const bystander = await settle({ world, sc, namespace: ns, name: "bystander", replicas: 2 });
      sc.keep(bystander.uid, (await world.podsOf(bystander.uid)).map((p) => p.uid));

      // de's workload, placed on de only (by the label); de's "agent" says 1 of 2 is ready.
      world.apply([workloadManifest({ namespace: ns, name: "de-app", replicas: 2, residency: { clusterSelector: { matchLabels: { [LABEL]: "de" } } }, failover: { enabled: false } })]);
      const placed = await world.untilStatus(ns, "de-app", "placed on de", (w) => w.status?.placements?.some((p) => p.cluster === "de" && p.replicas === 2) === true, 90_000);
      deUid = placed.metadata.uid!;
      const ref = { namespace: ns, name: "de-app", uid: deUid };
      const genuine = (ready: number): WorkloadStatus => ({
        cluster: "de", workload: ref, observedGeneration: placed.metadata.generation ?? 1, desiredReplicas: 2, readyReplicas: ready,
        podPhases: ready === 2 ? { Running: 2 } : { Running: ready, Pending: 2 - ready }, reportedAt: new Date(), message: "",
      });
      await de.publish.status(genuine(1));
      await world.untilStatus(ns, "de-app", "de's genuine report (1 of 2 ready) taken", (w) => w.status?.readyReplicas === 1, 60_000);

      // 1. Reading de's intents: the intent the control plane did publish for de-app is there, and fr gets none of it.
      const sub = fr.intents("de");
      await assertDenied(sub[Symbol.asyncIterator]().next(), /sov-intents-de/);
      await sub.stop().catch(() => undefined);
      const next = `$JS.API.CONSUMER.MSG.NEXT.${streams.intents("de")}.${streams.intentsConsumer("de")}`;
      await assertRequestDenied(fr.nc.request(next, JSON.stringify({ batch: 1 })), next);
      const get = `$JS.API.STREAM.MSG.GET.${streams.intents("de")}`;
      await assertRequestDenied(fr.nc.request(get, JSON.stringify({ last_by_subj: subjects.intent("de", deUid) })), get);
      await assertSubscribeDenied(fr.nc.subscribe(subjects.intentsAll("de")), subjects.intentsAll("de"));
      sc.note("fr reading de's intents (consumer pull, direct get, subscribe): refused by nats-server");

      // 2. Speaking for de: its status (claiming de-app is fully ready) and its heartbeat.
      await assertDenied(fr.publish.status({ ...genuine(2), reportedAt: new Date() }), /^sov\.v1\.de\.status\./);
      await assertDenied(fr.publish.heartbeat(sampleHeartbeat({ cluster: "de", sentAt: new Date(), sequence: 1_000_000 })), /^sov\.v1\.de\.heartbeat$/);
      sc.note("fr publishing de's status and heartbeat: refused by nats-server");

      // 3. Joining as de: de's pulls travel to de's inbox, de's Join needs de's certificate.
      await assertSubscribeDenied(fr.nc.subscribe(`${inboxPrefix({ member: "de" })}.>`), `${inboxPrefix({ member: "de" })}.>`);
      const host = new KubeHostApi({ source: { kubeconfigFile: world.env.hostKubeconfig } });
      const token = await createBootstrapToken({ host, cluster: "de", now: new Date(), ttlMs: 3_600_000 });
      try {
        const impostor = await grpcError(grpc("fr").join({ cluster: "de", bootstrapToken: token, agentVersion: "0.1.0" }));
        assert.equal(impostor.code, grpcStatus.PERMISSION_DENIED, impostor.details);
        const secret = await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(token.slice(0, 6)));
        assert.ok(secret, "the token's Secret is still there");
        assert.equal(secret.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt], undefined, "fr's refused Join did not consume de's token");
      } finally {
        await host.deleteSecret(BOOTSTRAP_NAMESPACE, secretNameOf(token.slice(0, 6))).catch(() => undefined);
      }
      sc.note("fr listening on de's inbox: refused by nats-server; fr's certificate joining as de with de's token: PERMISSION_DENIED, the token not consumed");

      // 4. Forged and garbage statuses on fr's own subjects (all nats-server can check is the subject's member).
      const before = await dropped(metricsUrl);
      const raw = (subject: string, data: Uint8Array) => fr.js.publish(subject, data, { timeout: 30_000 });
      const forged = sc.int(5, 15);
      for (let i = 0; i < forged; i++) await fr.publish.status({ ...genuine(2), cluster: "fr", reportedAt: new Date() }); // fr does not run de-app
      await raw(subjects.status("fr", randomUUID()), codecs.status.encode({ ...genuine(2), cluster: "fr" })); // names de-app on another uid's subject
      const other = randomUUID();
      await raw(subjects.status("fr", other), codecs.status.encode({ ...genuine(2), workload: { ...ref, uid: other } })); // payload claims to be de's
      await fr.publish.status({ ...genuine(2), cluster: "fr", workload: { namespace: ns, name: "ghost", uid: randomUUID() } }); // no such workload
      for (const g of GARBAGE) await raw(subjects.status("fr", randomUUID()), g);
      const want = { NotPlacedOnMember: 1, UidMismatch: 1, ClusterMismatch: 1, UnknownWorkload: 1, Malformed: GARBAGE.length };
      const after = await world.until("every forged and garbage status counted as dropped", async () => {
        const now = await dropped(metricsUrl);
        return Object.entries(want).every(([r, n]) => (now[r] ?? 0) - (before[r] ?? 0) >= n) ? now : false;
      }, 60_000);
      const delta = Object.fromEntries(Object.keys(want).map((r) => [r, (after[r] ?? 0) - (before[r] ?? 0)]));
      sc.note(`forged and garbage statuses dropped by the control plane, by reason: ${JSON.stringify(delta)}`);

      // 5. Forged and garbage heartbeats on fr's own subject: one naming de (claiming de has no
      // room left), and the garbage; each dropped and counted, de's room as de's agent tells it.
      const heartbeatsBefore = await dropped(metricsUrl, "sovereign_heartbeats_dropped_total");
      await raw(subjects.heartbeat("fr"), codecs.heartbeat.encode(codecs.heartbeat.create(sampleHeartbeat({ cluster: "de", sentAt: new Date(), sequence: 2_000_000, allocatable: { cpu: "0", memory: "0", pods: "0" } }))));
      for (const g of GARBAGE) await raw(subjects.heartbeat("fr"), g);
      const heartbeatsWant = { ClusterMismatch: 1, Malformed: GARBAGE.length };
      const heartbeatsAfter = await world.until("every forged and garbage heartbeat counted as dropped", async () => {
        const now = await dropped(metricsUrl, "sovereign_heartbeats_dropped_total");
        return Object.entries(heartbeatsWant).every(([r, n]) => (now[r] ?? 0) - (heartbeatsBefore[r] ?? 0) >= n) ? now : false;
      }, 60_000);
      const heartbeatsDelta = Object.fromEntries(Object.keys(heartbeatsWant).map((r) => [r, (heartbeatsAfter[r] ?? 0) - (heartbeatsBefore[r] ?? 0)]));
      assert.deepEqual(heartbeatsDelta, heartbeatsWant, "each forged or garbage heartbeat counted once");
      sc.note(`forged and garbage heartbeats dropped by the control plane, by reason: ${JSON.stringify(heartbeatsDelta)}`);

      // Nothing of it reached de-app's status; the control plane is the same process, ready.
      assert.equal((await world.workload(ns, "de-app"))?.status?.readyReplicas, 1, "a forged status changed de-app's status");
      assert.equal(controlPlanePid(), pid, "the control plane was restarted");
      process.kill(pid, 0);
      assert.equal((await fetch(metricsUrl.replace(/\/metrics$/, "/readyz"))).status, 200, "the control plane is ready");

      // Positive control: de's next genuine report is taken at once.
      const t = Date.now();
      await de.publish.status(genuine(2));
      await world.untilStatus(ns, "de-app", "de's genuine report (2 of 2 ready) taken after the attack", (w) => w.status?.readyReplicas === 2, 60_000);
      sc.recovered(t);
      await settle({ world, sc, namespace: ns, name: "bystander", replicas: 2, what: "still Ready" });
    });
  });
});
