import assert from "node:assert/strict";
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import type { SovereignWorkload } from "../../operator/src/api/index.ts";
import { MEMBER_LABELS } from "../../operator/src/api/index.ts";
import { readAuditMessages, streams } from "../../operator/src/federation/index.ts";
import { parseLine } from "../../operator/src/ledger/index.ts";
import { stopComponent } from "../../hack/lib/federation/index.ts";
import { federationStateDir, repoRoot } from "../integration/env.ts";
import { connectAs } from "../integration/federation/helpers.ts";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { Members, runScenario, type Scenario, settle, SHORT } from "./support/chaos.ts";
import { natsServersOf, type StreamState, streamState } from "./support/jetstream-cluster.ts";

/**
 * nats-server crashes (SIGKILL: no flush, no goodbye) and comes back the way
 * `hack/federation start` runs it, in two scenarios of the table:
 * - right after a burst of applies, while intents, acks, status and audit records are in
 *   flight: every workload ends with exactly its replicas Running and one Deployment per
 *   placed cluster, and every audit record the stream had acknowledged before the crash is
 *   still there;
 * - down for longer than the streams' duplicate window (2 minutes), while workloads are
 *   applied, scaled and deleted on the host: what the control plane could not publish
 *   meanwhile reaches the members once NATS is back, beyond the window in which JetStream
 *   would drop a repeated message, and nothing is duplicated or left behind.
 *
 * On a JetStream cluster of three (FEDERATION_NATS_CLUSTER=3) all three servers are
 * killed at once: the whole NATS service crashes, as the single server does here. Losing
 * one of the three, the one the control plane uses, is nats-cluster.test.ts's scenario.
 */

/** The audit stream's state from the first server's monitoring endpoint (loopback HTTP, no credentials). */
function auditStream(world: World): Promise<StreamState> {
  return streamState(world.env.natsMonitorUrl, streams.audit);
}

const BURST = SHORT ? 12 : 20;
/** The intents and status streams' duplicate window (operator/src/federation/nats/protocol.ts). */
const DUPLICATE_WINDOW_S = 120;

describe("chaos: nats-server killed with SIGKILL, end to end", function () {
  this.timeout(600_000);
  const ns = "chaos-nats-restart";
  let world: World;
  let members: Members;
  let apps: Map<string, AppsV1Api>;

  const killNats = async () => {
    // Through the library `hack/federation stop --signal KILL` runs, not a second process:
    // milliseconds between what the test read and the crash.
    await Promise.all(natsServersOf(world.env).map((s) => stopComponent({ root: repoRoot, stateDir: federationStateDir(), component: s.component, signal: "KILL" })));
  };
  /** Every nats-server started again (`hack/federation start` of one already running waits for it and succeeds). */
  const startNats = () => {
    for (const s of natsServersOf(world.env)) world.component("start", s.component);
  };

  /** Every workload of the namespace deleted on the host; waits until the host and every member hold nothing of them. */
  const deleteAll = async (sc: Scenario) => {
    world.kubectl(["delete", "swl", "--all", "-n", ns, "--wait=false"]);
    for (const u of [...sc.expectations.values()]) sc.expectGone({ uid: u.uid, name: u.name });
    await world.until("every workload of the scenario gone from the host and every member", async () => {
      const left = JSON.parse(world.kubectl(["get", "swl", "-n", ns, "-o", "json"])) as { items: unknown[] };
      return left.items.length === 0 && (await members.list()).every((o) => !sc.gone.has(o.workloadUid));
    }, 150_000);
  };

  /** Every audit record stored since `since`, by id: a record stored twice has two entries. */
  const auditIdsSince = async (since: Date): Promise<Map<string, number>> => {
    const client = await connectAs(world.env, "control-plane");
    try {
      const counts = new Map<string, number>();
      for await (const m of readAuditMessages({ jsm: await client.manager(), js: client.js, since })) {
        const id = parseLine(m.data).id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    } finally {
      await client.drain();
    }
  };

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
    apps = new Map([...world.members.keys()].map((m) => {
      const kc = new KubeConfig();
      kc.loadFromFile(world.env.memberKubeconfigs[m]!);
      return [m, kc.makeApiClient(AppsV1Api)];
    }));
  });

  after(async function () {
    // Whatever happened, leave every nats-server running for the next file.
    await world?.finish({ namespace: ns, cleanup: [() => startNats()], deleteTimeout: "120s" });
  });

  /** Ready with its replicas, exactly those pods Running and one Deployment per placed cluster, none anywhere else; recorded for the census. */
  const converged = async (sc: Scenario, m: SovereignWorkload, when: string): Promise<void> => {
    const name = m.metadata.name;
    const replicas = m.spec.replicas;
    const w = await settle({ world, sc, namespace: ns, name, replicas, what: `Ready ${when}`, timeoutMs: 240_000 });
    const want = Object.fromEntries(Object.entries(w.placed).map(([c, n]) => [c, [n]]));
    let seen: Record<string, number[]> = {};
    try {
      await world.until(`${name}: one Deployment per placed cluster ${JSON.stringify(w.placed)} ${when}`, async () => {
        seen = {};
        for (const [member, api] of apps) {
          const list = await api.listDeploymentForAllNamespaces({ labelSelector: `${MEMBER_LABELS.workloadUid}=${w.uid}` });
          const live = list.items.filter((d) => !d.metadata?.deletionTimestamp);
          if (live.length) seen[member] = live.map((d) => d.spec?.replicas ?? 0);
        }
        return JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(want).sort());
      }, 60_000);
    } catch (err) {
      throw new Error(`${name} ${when}: Deployments (spec.replicas by member) ${JSON.stringify(seen)}, want ${JSON.stringify(want)}`, { cause: err });
    }
  };

  const manifest = (i: number, replicas?: number) => i % 2 === 0
    ? workloadManifest({ namespace: ns, name: `pub-${i}`, replicas: replicas ?? 2, policy: "public", placement: { maxClusters: 2 } })
    : workloadManifest({ namespace: ns, name: `eu-${i}`, replicas: replicas ?? 3, policy: "personal-data-eu", placement: { maxClusters: 3 } });

  it("right after a burst of applies: every workload ends with exactly its replicas and one Deployment per placed cluster, and no acknowledged audit record is lost", async function () {
    await runScenario({ name: `nats-server SIGKILL after a burst of ${BURST}`, world, members }, async (sc) => {
      const baseline = await auditStream(world);
      const burst = Array.from({ length: BURST }, (_, i) => manifest(i));
      world.apply(burst);
      // Kill while the burst is in flight: as soon as the control plane has had some of its
      // audit records acknowledged (so the count below is a real positive control), not after it settled.
      const beforeKill = await world.until("the first audit records of the burst acknowledged", async () => {
        const st = await auditStream(world);
        return st.last_seq > baseline.last_seq ? st : false;
      }, 120_000);
      try {
        await killNats();
      } finally {
        startNats();
      }
      const back = Date.now();

      // A keep-alive connection to the killed server's monitor fails once: read again until the new one answers.
      // On a cluster, the first server may have been a follower one write behind: it catches up from the others.
      let after: StreamState | undefined;
      try {
        after = await world.until("the audit stream's state from the restarted nats-server, with every record acknowledged before the kill", async () => {
          after = await auditStream(world).catch(() => undefined);
          return after && after.last_seq >= beforeKill.last_seq && after.messages >= beforeKill.messages ? after : false;
        }, 30_000);
      } catch (err) {
        throw new Error(`audit records acknowledged before the kill are gone: before ${JSON.stringify(beforeKill)}, after ${JSON.stringify(after)}`, { cause: err });
      }
      assert.ok(after.first_seq <= beforeKill.first_seq || beforeKill.messages === 0, `the audit stream lost its head: first_seq ${beforeKill.first_seq} → ${after.first_seq}`);
      assert.ok(after.last_seq >= beforeKill.last_seq, `audit records acknowledged before the kill are gone: last_seq ${beforeKill.last_seq} → ${after.last_seq}`);
      assert.ok(after.messages >= beforeKill.messages, `audit records acknowledged before the kill are gone: ${beforeKill.messages} → ${after.messages} messages`);

      for (const m of burst) await converged(sc, m, "after nats-server's restart");
      sc.recovered(back);
      // Once every workload got there, every one is still there: a late decision (a member
      // that missed heartbeats during the outage, a new leader) must not leave members and status apart.
      for (const m of burst) await converged(sc, m, "once every workload converged");
      await world.auditor.check("after nats-server's SIGKILL and restart");
      // Still every record, once the control plane has published what the burst's settling added.
      const settled = await auditStream(world);
      assert.ok(settled.last_seq >= after.last_seq && settled.messages >= beforeKill.messages, JSON.stringify({ beforeKill, after, settled }));
      sc.note(`killed with ${beforeKill.last_seq - baseline.last_seq} audit record(s) of the burst acknowledged; all there after the restart (last_seq ${beforeKill.last_seq} → ${settled.last_seq})`);
      await deleteAll(sc);
    });
  });

  it(`down longer than the duplicate window (${DUPLICATE_WINDOW_S} s), killed during a burst and changed meanwhile: everything converges, no Deployment, pod or audit record twice`, async function () {
    const downS = DUPLICATE_WINDOW_S + 10;
    this.timeout(900_000);
    await runScenario({ name: `nats-server down ${downS}s (past the ${DUPLICATE_WINDOW_S}s dedup window)`, world, members }, async (sc) => {
      const startedAt = new Date();
      const count = SHORT ? 4 : 8;
      const steady = Array.from({ length: count }, (_, i) => manifest(i));
      world.apply(steady);
      const uids = new Map<string, string>();
      for (const m of steady) uids.set(m.metadata.name, (await settle({ world, sc, namespace: ns, name: m.metadata.name, replicas: m.spec.replicas })).uid);

      // Killed while a burst is in flight: intents and audit records sent, some acknowledged,
      // some perhaps stored with their acknowledgement lost, and retried only after the window.
      const baseline = await auditStream(world);
      const burst = Array.from({ length: SHORT ? 4 : 8 }, (_, i) => manifest(count + i));
      world.apply(burst);
      await world.until("the first audit records of the burst acknowledged", async () => ((await auditStream(world)).last_seq > baseline.last_seq ? true : false), 120_000);
      let downAt = Date.now();
      let back: number;
      // What the host changes while NATS is away: one scaled up, one down, one deleted.
      const [up, down, doomed] = [steady[0]!, steady[1]!, steady[2]!];
      const final = [manifest(0, 4), manifest(1, 1), ...steady.slice(3), ...burst];
      try {
        await killNats();
        downAt = Date.now();
        world.apply([manifest(0, 4), manifest(1, 1)]);
        world.kubectl(["delete", "swl", doomed.metadata.name, "-n", ns, "--wait=false"]);
        sc.expectGone({ uid: uids.get(doomed.metadata.name)!, name: doomed.metadata.name });
        // While NATS is away the scale cannot reach a member (so what follows measures what the return delivers).
        const upPods = (await members.list()).filter((o) => o.workloadUid === uids.get(up.metadata.name) && o.kind === "Pod").length;
        assert.equal(upPods, up.spec.replicas, `${up.metadata.name} has its ${up.spec.replicas} pods while NATS is down`);
        await world.until(`nats-server down ${downS} s`, async () => Date.now() - downAt >= downS * 1000, (downS + 10) * 1000);
        const stillUp = (await members.list()).filter((o) => o.workloadUid === uids.get(up.metadata.name) && o.kind === "Pod").length;
        assert.equal(stillUp, up.spec.replicas, `the scale of ${up.metadata.name} reached a member while NATS was down`);
        sc.note(`killed during a burst of ${burst.length}; down ${((Date.now() - downAt) / 1000).toFixed(0)} s; meanwhile ${up.metadata.name} 2→4, ${down.metadata.name} 3→1, ${doomed.metadata.name} deleted`);
      } finally {
        startNats();
        back = Date.now();
      }
      for (const m of final) await converged(sc, m, "after nats-server's return");
      await world.until(`${doomed.metadata.name} gone from the host and every member`, async () =>
        (await world.workload(ns, doomed.metadata.name)) === undefined && (await world.podsOf(uids.get(doomed.metadata.name)!)).length === 0, 120_000);
      sc.recovered(back);
      // And it stays so: nothing published twice turns up later.
      for (const m of final) await converged(sc, m, "once every workload converged");
      await world.auditor.check(`after nats-server down ${downS} s`);
      const ids = await auditIdsSince(startedAt);
      const twice = [...ids].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
      assert.ok(ids.size > 0, "the positive control: the scenario's audit records are read back");
      assert.deepEqual(twice, [], "audit records stored more than once");
      sc.note(`${ids.size} audit records since the scenario began, each stored once`);
      await deleteAll(sc);
    });
  });
});
