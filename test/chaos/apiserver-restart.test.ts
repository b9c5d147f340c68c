import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { MEMBER_LABELS } from "../../operator/src/api/index.ts";
import { startComponent, stopComponent } from "../../hack/lib/federation/index.ts";
import { readState } from "../../hack/lib/federation/state.ts";
import { federationStateDir, repoRoot } from "../integration/env.ts";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { CountingApiProxy } from "./support/api-proxy.ts";
import { Members, runScenario, settle, SHORT } from "./support/chaos.ts";

/**
 * A member's kube-apiserver killed (SIGKILL) and restarted after 20 s, as a new user
 * tried it: the agent, never restarted, recovers its informers and watches on its own; a
 * scale reaches the member within 10 s of its API server's return; the member's pods are
 * Ready again (kwok's stock stages would leave them Ready=False: hack/lib/federation's
 * pod-ready-again stage does what a kubelet does); and the agent does not storm the API
 * server meanwhile: its requests are counted by an HTTPS proxy between it and the API
 * server (the agent is started once through it, before the fault).
 */
const VICTIM = "ionos-fra-1";
const DOWN_S = 20;

/**
 * The agent's informers on its member (Deployments, pods, namespaces, nodes: its log's
 * "informer synced" lines). The storm bound: each of them retrying at most once a second,
 * with no backoff at all, while the API server is away and in the 20 s after its return.
 * A client with backoff (client-go starts near 1 s and doubles) stays well below it;
 * one that retries in a loop, or a reconcile per object per retry, goes far above it.
 */
const INFORMERS = 4;

function agentPid(component: string): number {
  const p = readState(federationStateDir())?.processes.find((x) => x.component === component);
  if (!p) throw new Error(`no recorded ${component}`);
  return p.pid;
}

describe("chaos: a member's kube-apiserver killed and restarted, the agent left running", function () {
  this.timeout(SHORT ? 180_000 : 300_000);
  const ns = "chaos-apiserver";
  const agent = `agent-${VICTIM}`;
  const lib = { root: repoRoot, stateDir: federationStateDir() };
  let world: World;
  let members: Members;
  let proxy: CountingApiProxy | undefined;

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
    const recorded = readState(lib.stateDir)?.processes.find((p) => p.component === agent)?.args ?? [];
    const kubeconfigFile = recorded[recorded.indexOf("--kubeconfig") + 1];
    if (!kubeconfigFile) throw new Error(`${agent} was not started with --kubeconfig: ${recorded.join(" ")}`);
    // JSON (the charts' identities) or YAML (the admin's): YAML reads both.
    const doc = parse(readFileSync(kubeconfigFile, "utf8")) as { clusters: { cluster: { server: string } }[] };
    const server = doc.clusters[0]!.cluster.server;
    const certs = path.join(lib.stateDir, VICTIM, "certs");
    const cert = readFileSync(path.join(certs, "apiserver.crt"));
    proxy = await CountingApiProxy.start({ target: server, cert, key: readFileSync(path.join(certs, "apiserver.key")), ca: cert });
    const viaProxy = path.join(lib.stateDir, `chaos-${agent}-via-proxy.kubeconfig`);
    doc.clusters[0]!.cluster.server = proxy.url;
    writeFileSync(viaProxy, JSON.stringify(doc, null, 2), { mode: 0o600 });
    await stopComponent({ ...lib, component: agent });
    await startComponent({ ...lib, component: agent, flags: { "--kubeconfig": viaProxy }, timeoutMs: 120_000 });
    await world.untilMemberReady(VICTIM, true, 60_000);
  });

  after(async function () {
    const restore = async () => {
      try {
        world.component("start", `kube-apiserver-${VICTIM}`);
      } catch {
        // already running
      }
      await stopComponent({ ...lib, component: agent });
      await startComponent({ ...lib, component: agent, flags: {}, timeoutMs: 120_000 });
    };
    await world?.finish({ namespace: ns, cleanup: [restore, () => proxy?.close()] });
  });

  it(`down ${DOWN_S} s: informers recover without an agent restart, a scale reaches the member within 10 s of its return, pods Ready again, no request storm`, async function () {
    await runScenario({ name: `kube-apiserver SIGKILL, ${DOWN_S}s down`, world, members }, async (sc) => {
      world.apply([workloadManifest({
        namespace: ns, name: "pinned", replicas: 2, failover: { tolerationSeconds: 600 },
        residency: { allowedCountries: ["DE"], forbidExtraterritorialExposure: true, crossBorderFailover: false },
      })]);
      const w = await settle({ world, sc, namespace: ns, name: "pinned", replicas: 2 });
      assert.deepEqual(Object.keys(w.placed), [VICTIM]);
      const before = (await world.podsOf(w.uid)).map((p) => p.uid).sort();
      const pid = agentPid(agent);

      // The agent's steady rate, for comparison.
      const steadyFrom = Date.now();
      const steadyS = SHORT ? 5 : 10;
      await world.until(`${steadyS} s of steady requests counted`, async () => Date.now() - steadyFrom >= steadyS * 1000, (steadyS + 5) * 1000);
      const steady = proxy!.count({ from: steadyFrom, to: Date.now() });

      const downAt = Date.now();
      world.component("stop", `kube-apiserver-${VICTIM}`, ["--signal", "KILL"]);
      const downS = DOWN_S + sc.int(0, SHORT ? 0 : 5);
      await world.until(`${downS} s down`, async () => Date.now() - downAt >= downS * 1000, (downS + 5) * 1000);
      world.component("start", `kube-apiserver-${VICTIM}`);
      const back = Date.now();
      const outage = proxy!.count({ from: downAt, to: back });

      // Work after the return: a scale on the host must reach the member within 10 s.
      world.kubectl(["scale", "swl/pinned", "-n", ns, "--replicas=4"]);
      const kubeconfig = world.env.memberKubeconfigs[VICTIM]!;
      const replicasOnMember = () => {
        const out = JSON.parse(world.kubectl(["get", "deployments", "-A", "-l", `${MEMBER_LABELS.workloadUid}=${w.uid}`, "-o", "json"], { kubeconfig })) as { items: { metadata: { uid: string }; spec?: { replicas?: number } }[] };
        return out.items.map((d) => ({ uid: d.metadata.uid, replicas: d.spec?.replicas ?? 1 }));
      };
      const applied = await world.until("the scale on the member", async () => {
        const ds = replicasOnMember();
        return ds.length === 1 && ds[0]!.replicas === 4 ? ds[0]! : false;
      }, 60_000);
      const reachedS = (Date.now() - back) / 1000;
      const scaled = await settle({ world, sc, namespace: ns, name: "pinned", replicas: 4, what: "Ready with the scale", timeoutMs: 90_000 });
      assert.deepEqual(scaled.placed, { [VICTIM]: 4 });
      // The member's pods are Ready again (not only Running): what the host's readyReplicas above counted.
      const notReady = () => {
        const pods = JSON.parse(world.kubectl(["get", "pods", "-A", "-l", `${MEMBER_LABELS.workloadUid}=${w.uid}`, "-o", "json"], { kubeconfig })) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
        return pods.items.filter((p) => p.status?.conditions?.find((c) => c.type === "Ready")?.status !== "True").length;
      };
      const scaledS = (Date.now() - back) / 1000;
      await world.until("every pod of pinned Ready on the member", async () => notReady() === 0, 60_000);
      const readyS = sc.recovered(back);
      const after = (await world.podsOf(w.uid)).map((p) => p.uid);
      for (const uid of before) assert.ok(after.includes(uid), `pod ${uid} was replaced across the API server's restart`);

      // The informers are live again: drift on the member (its Deployment deleted) is undone without a restart.
      world.kubectl(["delete", "deployments", "-A", "-l", `${MEMBER_LABELS.workloadUid}=${w.uid}`, "--wait=false"], { kubeconfig });
      const drift = Date.now();
      await world.until("the deleted Deployment restored by the agent", async () => {
        const ds = replicasOnMember();
        return ds.length === 1 && ds[0]!.uid !== applied.uid && ds[0]!.replicas === 4;
      }, 30_000);
      const restoredS = (Date.now() - drift) / 1000;
      await settle({ world, sc, namespace: ns, name: "pinned", replicas: 4, what: "Ready after the drift", timeoutMs: 90_000 });
      assert.equal(agentPid(agent), pid, "the agent was restarted");

      const recovery = proxy!.count({ from: back, to: back + 20_000 });
      const top = (c: typeof outage) => c.byPath.slice(0, 4).map(([k, n]) => `${k}: ${n}`).join(", ");
      sc.note(`scale on the member ${reachedS.toFixed(1)} s after the API server was back, the host saw 4 Ready at ${scaledS.toFixed(1)} s, every pod Ready on the member at ${readyS.toFixed(1)} s; Deployment drift restored in ${restoredS.toFixed(1)} s; agent pid ${pid} unchanged`);
      sc.note(`agent requests: steady ${(steady.total / steadyS).toFixed(1)}/s; during the ${((back - downAt) / 1000).toFixed(0)} s outage ${outage.total} (${outage.unanswered} unanswered; ${top(outage)}); the 20 s after the return ${recovery.total} (${recovery.watches} watches; ${top(recovery)})`);
      assert.ok(reachedS <= 10, `the scale reached the member ${reachedS.toFixed(1)} s after its API server's return, not within 10 s`);
      assert.ok(restoredS <= 10, `the agent restored the deleted Deployment after ${restoredS.toFixed(1)} s: its informers did not recover`);
      const bound = INFORMERS * ((back - downAt) / 1000);
      assert.ok(outage.total <= bound, `a request storm: ${outage.total} requests in ${((back - downAt) / 1000).toFixed(0)} s of outage (bound ${bound.toFixed(0)}): ${top(outage)}`);
      // After the return: a relist and a watch per informer, plus the work (the scale, the drift), within the same once-a-second bound.
      assert.ok(recovery.total <= INFORMERS * 20, `a request storm after the return: ${recovery.total} requests in 20 s (bound ${INFORMERS * 20}): ${top(recovery)}`);
    });
  });
});
