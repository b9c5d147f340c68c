import assert from "node:assert/strict";
import { streams } from "../../operator/src/federation/index.ts";
import { stopComponent } from "../../hack/lib/federation/index.ts";
import { federationStateDir, repoRoot } from "../integration/env.ts";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { Members, runScenario, type Scenario, settle, SHORT } from "./support/chaos.ts";
import { answers, connectionNames, natsServersOf, type ServerStream, serverName, serverStreams, streamState } from "./support/jetstream-cluster.ts";

/**
 * A JetStream cluster of three nats-servers (`hack/federation up --nats-cluster 3`, every
 * stream at R3, the audit stream too): the server the control plane is connected to is
 * SIGKILLed during a burst of applies, scales and deletes. Publishing goes on: the control
 * plane and the agents move to the other two servers (they were given all three), the
 * streams keep a quorum, and every workload of the burst reaches Running while that server
 * is still down. Started again, the server catches up: for every stream, the last sequence
 * it stores (read from its own monitoring endpoint) equals the other two's.
 *
 * The scenario needs that shape: `npm run chaos` and `npm run test:chaos` set
 * FEDERATION_NATS_CLUSTER=3. On any other shape it fails, saying so; it never skips.
 */
const ns = "chaos-nats-cluster";

describe("chaos: one server of a JetStream cluster of three SIGKILLed during a burst", function () {
  const burstSize = SHORT ? 12 : 30;
  /** At least this long down, converged or not. */
  const minDownS = SHORT ? 20 : 60;
  this.timeout(SHORT ? 300_000 : 600_000);
  let world: World;
  let members: Members;
  let servers: { component: string; monitor: string }[] = [];

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
    servers = natsServersOf(world.env);
    if (servers.length !== 3) {
      throw new Error(`this scenario needs the local federation's JetStream cluster of three (FEDERATION_NATS_CLUSTER=3, or hack/federation up --nats-cluster 3); it runs ${servers.length} nats-server(s)`);
    }
  });

  after(async function () {
    // Whatever happened, every server runs again for the next file.
    const startAll = () => {
      for (const s of servers) {
        try {
          world.component("start", s.component);
        } catch {
          // already running
        }
      }
    };
    await world?.finish({ namespace: ns, cleanup: [startAll] });
  });

  /** Every stream of every server, by server. */
  async function everyServer(): Promise<ServerStream[][]> {
    return Promise.all(servers.map((s) => serverStreams(s.monitor)));
  }

  it(`keeps publishing while the control plane's server is down (a burst of ${burstSize} applies, scales and deletes), and the server catches up when back`, async function () {
    await runScenario({ name: `1 of 3 nats-servers SIGKILLed mid-burst (${burstSize} workloads)`, world, members }, async (sc: Scenario) => {
      // The shape, checked: every stream of the federation on every server, at R3.
      const before = await everyServer();
      const names = [...new Set(before.flat().map((s) => s.name))].sort();
      assert.ok(names.includes(streams.audit) && names.includes(streams.heartbeats), `streams on the cluster: ${names.join(", ")}`);
      for (const [i, list] of before.entries()) {
        for (const n of names) {
          const s = list.find((x) => x.name === n);
          assert.ok(s, `${servers[i]!.component} holds no replica of ${n}`);
          assert.equal(s.config?.num_replicas, 3, `${n} on ${servers[i]!.component}: ${s.config?.num_replicas} replicas, not 3`);
        }
      }

      // The victim: the server the control plane is connected to, so that its client has to move.
      const conns = await Promise.all(servers.map((s) => connectionNames(s.monitor)));
      const victimIndex = conns.findIndex((c) => c.includes("sovereign-control-plane"));
      assert.ok(victimIndex >= 0, `no server serves the control plane's connection: ${JSON.stringify(conns)}`);
      const victim = servers[victimIndex]!;
      const survivors = servers.filter((s) => s !== victim);
      const victimName = await serverName(victim.monitor);
      const led = before[victimIndex]!.filter((s) => s.cluster?.leader === victimName).map((s) => s.name);
      sc.note(`victim ${victim.component} (${victimName}): serves the control plane${conns[victimIndex]!.some((c) => c.startsWith("sovereign-agent-")) ? " and an agent" : ""}, leads ${led.length} of ${names.length} streams`);

      const manifest = (name: string, replicas: number, policy: string) =>
        workloadManifest({ namespace: ns, name, replicas, policy, placement: { maxClusters: 2 } });
      const spec = Array.from({ length: burstSize }, (_, i) => ({ name: `b-${i}`, replicas: sc.int(1, 3), policy: sc.pick(["public", "personal-data-eu"]) }));
      const half = Math.ceil(burstSize / 2);
      const auditBefore = await streamState(survivors[0]!.monitor, streams.audit);

      world.apply(spec.slice(0, half).map((w) => manifest(w.name, w.replicas, w.policy)));
      // Kill while the burst is in flight: once the control plane has had some of its audit records acknowledged.
      const atKill = await world.until("the first audit records of the burst acknowledged", async () => {
        const s = await streamState(survivors[0]!.monitor, streams.audit);
        return s.last_seq > auditBefore.last_seq ? s : false;
      }, 120_000);
      assert.ok(await answers(victim.monitor), `${victim.component} answers before the kill (the check's positive control)`);
      // Through the library `hack/federation stop --signal KILL` runs: no second process between the count and the crash.
      await stopComponent({ root: repoRoot, stateDir: federationStateDir(), component: victim.component, signal: "KILL" });
      const killedAt = Date.now();
      assert.equal(await answers(victim.monitor), false, `${victim.component} still answers after SIGKILL`);

      // The rest of the burst while it is down: new workloads, scales, deletes.
      world.apply(spec.slice(half).map((w) => manifest(w.name, w.replicas, w.policy)));
      const firstHalf = spec.slice(0, half);
      const scaled = firstHalf.slice(0, 2);
      const deleted = firstHalf.slice(2, 4);
      for (const w of scaled) w.replicas = w.replicas === 3 ? 1 : w.replicas + 1;
      world.apply(scaled.map((w) => manifest(w.name, w.replicas, w.policy)));
      const deletedUids: { uid: string; name: string }[] = [];
      for (const w of deleted) {
        const uid = (await world.workload(ns, w.name))?.metadata.uid;
        assert.ok(uid, `${w.name} exists before its delete`);
        deletedUids.push({ uid, name: w.name });
      }
      world.kubectl(["delete", "swl", ...deleted.map((w) => w.name), "-n", ns, "--wait=false"]);
      const alive = spec.filter((w) => !deleted.includes(w));

      // Every workload of the burst Running as placed, every deleted one gone: all while the victim is down.
      await Promise.all(alive.map((w) => settle({ world, sc, namespace: ns, name: w.name, replicas: w.replicas, timeoutMs: 240_000, what: `Ready with ${victim.component} down` })));
      for (const d of deletedUids) sc.expectGone(d);
      await world.until("nothing left of the deleted workloads", async () => {
        for (const d of deletedUids) if ((await world.podsOf(d.uid)).length) return false;
        return true;
      }, 120_000);
      const convergedAt = Date.now();
      assert.equal(await answers(victim.monitor), false, `${victim.component} came back before the burst converged: the scenario proves nothing`);
      // Held down a while longer (heartbeats, status and attestations keep coming), so that
      // the restarted server has a backlog of every stream to catch up on, not a few records.
      await world.until(`${victim.component} down ${minDownS} s`, async () => Date.now() - killedAt >= minDownS * 1000, (minDownS + 5) * 1000);
      const auditDown = await streamState(survivors[0]!.monitor, streams.audit);
      assert.ok(auditDown.last_seq > atKill.last_seq, `no audit record was acknowledged while ${victim.component} was down (${atKill.last_seq} → ${auditDown.last_seq})`);
      const moved = (await Promise.all(survivors.map((s) => connectionNames(s.monitor)))).flat();
      assert.ok(moved.includes("sovereign-control-plane"), `the control plane is connected to neither surviving server: ${JSON.stringify(moved)}`);
      sc.note(`burst: ${burstSize} applies (${half} before the kill), ${scaled.length} scales, ${deleted.length} deletes; all ${alive.length} Running ${((convergedAt - killedAt) / 1000).toFixed(1)} s after the kill, ${auditDown.last_seq - atKill.last_seq} audit records acknowledged meanwhile`);

      // Back: its replica of every stream catches up with the other two's.
      const downS = (Date.now() - killedAt) / 1000;
      const restartedAt = Date.now();
      world.component("start", victim.component);
      const startedS = (Date.now() - restartedAt) / 1000;
      let last = "";
      try {
        await world.until(`${victim.component}'s replica of every stream at the others' last sequence`, async () => {
          const all = await everyServer().catch(() => undefined);
          if (!all) return false;
          const behind: string[] = [];
          for (const n of names) {
            const seqs = all.map((list) => list.find((s) => s.name === n)?.state.last_seq);
            if (seqs.some((x) => x === undefined) || new Set(seqs).size !== 1) behind.push(`${n} ${seqs.join("/")}`);
          }
          last = behind.join(", ");
          return behind.length === 0;
        }, 120_000);
      } catch (err) {
        throw new Error(`${victim.component} did not catch up: last sequences (${servers.map((s) => s.component).join("/")}) differ on ${last}`, { cause: err });
      }
      const caughtUpS = sc.recovered(restartedAt);
      const auditBack = await streamState(victim.monitor, streams.audit);
      assert.ok(auditBack.last_seq >= auditDown.last_seq, `${victim.component}'s audit stream: ${auditBack.last_seq} < ${auditDown.last_seq}`);
      sc.note(`${victim.component} down ${downS.toFixed(1)} s (at least ${minDownS} s); started (JetStream on) in ${startedS.toFixed(1)} s, every one of ${names.length} streams at the others' last sequence ${caughtUpS.toFixed(1)} s after the start (audit last_seq ${auditBack.last_seq})`);
    });
  });
});
