import assert from "node:assert/strict";
import { startComponent, stopComponent } from "../../hack/lib/federation/index.ts";
import { federationStateDir, repoRoot } from "../integration/env.ts";
import { condition, namespaceManifest, workloadManifest, World } from "../e2e/support/world.ts";
import { restrictedSecurityContext } from "../support/builders.ts";
import { TcpProxy, type TcpProxyCounters } from "../support/tcp-proxy.ts";
import { Members, readySince, runScenario, type Scenario, settle, SHORT } from "./support/chaos.ts";

/**
 * A member cut from NATS while its API server, its pods and its agent keep running: a TCP
 * proxy the test controls sits between that agent and nats-server. The host sees the
 * member NotReady and, after the toleration, moves what may move within residency (a
 * DE-only workload has nowhere to go and stays); healed, the surplus goes and nothing
 * else on the member is deleted: not the DE-only pods, not a Deployment nobody federates.
 * Once just past the toleration, once for far longer than it.
 *
 * On a JetStream cluster (FEDERATION_NATS_CLUSTER=3) the agent is given a proxy in front
 * of each server and all three are cut: the servers advertise no other address
 * (no_advertise), so the agent has no way around the cut but the one a real partition
 * would leave it, none.
 */
const VICTIM = "ionos-fra-1";

describe("chaos: a member cut from NATS while it keeps running (a TCP proxy between its agent and nats-server)", function () {
  const toleration = SHORT ? 5 : 10;
  const longCut = SHORT ? 45 : 150;
  this.timeout(SHORT ? 240_000 : 600_000);
  const ns = "chaos-nats-cut";
  let world: World;
  let members: Members;
  const proxies: TcpProxy[] = [];
  /** All proxies as one link: cut, healed and counted together. */
  const proxy = {
    cut: () => proxies.forEach((p) => p.cut()),
    heal: () => proxies.forEach((p) => p.heal()),
    get counters(): TcpProxyCounters {
      const all = proxies.map((p) => p.counters);
      const sum = (k: keyof TcpProxyCounters) => all.reduce((n, c) => n + c[k], 0);
      return {
        accepted: sum("accepted"), refused: sum("refused"), cutConnections: sum("cutConnections"), open: sum("open"),
        bytesUp: sum("bytesUp"), bytesDown: sum("bytesDown"), cuts: sum("cuts"), heals: sum("heals"),
      };
    },
  };

  const agent = `agent-${VICTIM}`;
  const lib = { root: repoRoot, stateDir: federationStateDir() };

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
    for (const url of world.env.natsUrls) {
      const nats = new URL(url);
      proxies.push(await TcpProxy.start({ target: { host: nats.hostname, port: Number(nats.port) } }));
    }
    // The agent restarted on the same command line but for its NATS URLs: the proxies'.
    await stopComponent({ ...lib, component: agent });
    await startComponent({ ...lib, component: agent, flags: { "--nats-url": proxies.map((p) => `tls://${p.address}`).join(",") }, timeoutMs: 120_000 });
    await world.untilMemberReady(VICTIM, true, 60_000);
  });

  after(async function () {
    proxy.heal();
    const restore = async () => {
      // Back on nats-server itself, as `hack/federation up` started it, for the next file.
      await stopComponent({ ...lib, component: agent });
      await startComponent({ ...lib, component: agent, flags: {}, timeoutMs: 120_000 });
    };
    await world?.finish({ namespace: ns, cleanup: [restore, () => Promise.all(proxies.map((p) => p.close()))] });
  });

  /** One cut, held `total` seconds from its start, then healed. */
  async function cutAndHeal(params: { name: string; total: (p: { movedAfterS: number; sc: Scenario }) => number }): Promise<void> {
    await runScenario({ name: params.name, world, members }, async (sc) => {
      world.apply([
        workloadManifest({ namespace: ns, name: "eu", replicas: 3, policy: "personal-data-eu", placement: { maxClusters: 3 }, failover: { tolerationSeconds: toleration } }),
        workloadManifest({
          namespace: ns, name: "de-only", replicas: 2, failover: { tolerationSeconds: toleration },
          residency: { allowedCountries: ["DE"], forbidExtraterritorialExposure: true, crossBorderFailover: false },
        }),
      ]);
      const eu = await settle({ world, sc, namespace: ns, name: "eu", replicas: 3 });
      const de = await settle({ world, sc, namespace: ns, name: "de-only", replicas: 2 });
      assert.deepEqual(Object.keys(de.placed), [VICTIM]);
      // Something on the member that no one federates: it must outlive the cut untouched.
      const kubeconfig = world.env.memberKubeconfigs[VICTIM]!;
      world.kubectl(["apply", "-f", "-"], { kubeconfig, input: JSON.stringify(namespaceManifest(ns)) });
      world.kubectl(["apply", "-f", "-"], {
        kubeconfig,
        input: JSON.stringify({
          apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "bystander", namespace: ns },
          spec: { replicas: 2, selector: { matchLabels: { app: "bystander" } }, template: { metadata: { labels: { app: "bystander" } }, spec: { containers: [{ name: "app", image: "registry.example.eu/e2e:1.0", securityContext: restrictedSecurityContext() }] } } },
        }),
      });
      const bystander = async () => {
        const d = JSON.parse(world.kubectl(["get", "deployment", "bystander", "-n", ns, "-o", "json"], { kubeconfig })) as { metadata: { uid: string } };
        const pods = JSON.parse(world.kubectl(["get", "pods", "-n", ns, "-l", "app=bystander", "-o", "json"], { kubeconfig })) as { items: { metadata: { uid: string; deletionTimestamp?: string }; status?: { phase?: string } }[] };
        return { deployment: d.metadata.uid, pods: pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === "Running").map((p) => p.metadata.uid).sort() };
      };
      const plain = await world.until("the bystander's 2 pods Running", async () => {
        const b = await bystander();
        return b.pods.length === 2 ? b : false;
      }, 60_000);
      const dePods = (await world.podsOf(de.uid)).map((p) => p.uid).sort();
      sc.keep(de.uid, dePods);
      sc.keep(eu.uid, (await world.podsOf(eu.uid)).filter((p) => p.member !== VICTIM).map((p) => p.uid));
      const countersBefore = proxy.counters;

      proxy.cut();
      const cutAt = Date.now();
      try {
        const mc = await world.untilMemberReady(VICTIM, false, 60_000);
        assert.match(mc.status?.conditions?.find((c) => c.type === "Ready")?.reason ?? "", /Heartbeat/);
        const since = readySince(mc);
        const moved = eu.placed[VICTIM]
          ? await settle({ world, sc, namespace: ns, name: "eu", replicas: 3, avoid: [VICTIM], ignorePodsOn: [VICTIM], timeoutMs: (toleration + 90) * 1000, what: "re-placed" })
          : eu;
        const movedAfter = (Date.now() - since) / 1000;
        if (eu.placed[VICTIM]) assert.ok(movedAfter >= toleration - 1, `moved ${movedAfter.toFixed(1)} s after NotReady, inside the toleration (${toleration} s)`);
        const stuck = await world.untilStatus(ns, "de-only", "NoCompliantCluster while cut", (w) => condition(w, "Scheduled")?.reason === "NoCompliantCluster", 60_000);
        assert.deepEqual(stuck.status?.placements?.map((p) => [p.cluster, p.replicas]), [[VICTIM, 2]]);
        const totalS = params.total({ movedAfterS: movedAfter, sc });
        await world.until(`the cut held ${totalS} s`, async () => Date.now() - cutAt >= totalS * 1000, (totalS + 5) * 1000);
        // While cut, the agent deleted nothing of its member (it cannot know what the host decided).
        assert.deepEqual((await world.podsOf(de.uid)).map((p) => p.uid).sort(), dePods, "DE-only pods changed on the member while it was cut");
        assert.deepEqual(await bystander(), plain, "the bystander changed while the member was cut");
        sc.note(`cut ${((Date.now() - cutAt) / 1000).toFixed(0)} s (toleration ${toleration} s); moved ${movedAfter.toFixed(1)} s after NotReady to ${JSON.stringify(moved.placed)}; ${proxy.counters.refused - countersBefore.refused} reconnects refused meanwhile`);
      } finally {
        proxy.heal();
      }
      const healed = Date.now();
      const attemptsBefore = proxy.counters.accepted;
      await world.untilMemberReady(VICTIM, true, 90_000).catch((err: unknown) => {
        // The evidence for the report: did the agent even try to come back through the healed link?
        throw new Error(`${VICTIM} not Ready 90 s after the heal; the agent opened ${proxy.counters.accepted - attemptsBefore} connection(s) to NATS since (proxy: ${JSON.stringify(proxy.counters)}); see its log for "closed connection"`, { cause: err });
      });
      const finalEu = await settle({ world, sc, namespace: ns, name: "eu", replicas: 3, what: "Ready after the heal", timeoutMs: 90_000 });
      await settle({ world, sc, namespace: ns, name: "de-only", replicas: 2, what: "Ready after the heal", timeoutMs: 90_000 });
      await world.untilStatus(ns, "de-only", "Scheduled again", (w) => condition(w, "Scheduled")?.status === "True", 60_000);
      sc.recovered(healed);
      assert.deepEqual((await world.podsOf(de.uid)).map((p) => p.uid).sort(), dePods, "the DE-only pods were replaced after the heal");
      assert.deepEqual(await bystander(), plain, "the bystander was touched after the heal");
      sc.note(`healed: eu on ${JSON.stringify(finalEu.placed)}, DE-only and the bystander untouched`);
      world.kubectl(["delete", "deployment", "bystander", "-n", ns, "--wait=true"], { kubeconfig });
      world.kubectl(["delete", "swl", "--all", "-n", ns, "--wait=true", "--timeout=90s"]);
      sc.expectGone({ uid: eu.uid, name: "eu" });
      sc.expectGone({ uid: de.uid, name: "de-only" });
      await world.until("nothing left of the deleted workloads", async () => (await world.podsOf(eu.uid)).length + (await world.podsOf(de.uid)).length === 0, 60_000);
    });
  }

  it(`a cut just past the toleration (${toleration} s): NotReady, failover within residency, healed → surplus removed, nothing else deleted`, async function () {
    await cutAndHeal({ name: `NATS cut, just past toleration ${toleration}s`, total: ({ movedAfterS, sc }) => Math.ceil(movedAfterS + sc.int(2, 10)) });
  });

  it(`a cut far longer than the toleration (${longCut} s against ${toleration} s)`, async function () {
    await cutAndHeal({ name: `NATS cut ${longCut}s, toleration ${toleration}s`, total: () => longCut });
  });
});
