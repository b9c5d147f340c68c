import assert from "node:assert/strict";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { Members, placedOf, readySince, runScenario, settle, SHORT } from "./support/chaos.ts";

/**
 * An agent dies without warning (SIGKILL) while its member's pods keep running, with a
 * tolerationSeconds that is not zero. Back before the toleration ends: the replicas never
 * moved and are the very same pods. Back after it: they moved within residency once the
 * toleration was over (not before), and the surplus left on the member goes when it returns.
 */
describe("chaos: an agent SIGKILLed, with a non-zero tolerationSeconds", function () {
  // Before: long enough for the host to see the member NotReady (3 missed 5 s heartbeats)
  // and for the agent to restart well inside it. After: short, so the move is soon.
  const within = SHORT ? 30 : 60;
  const afterT = SHORT ? 10 : 30;
  this.timeout(SHORT ? 180_000 : 420_000);
  const ns = "chaos-agent-kill";
  let world: World;
  let members: Members;

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
  });

  after(async function () {
    const startAgents = () => {
      for (const m of world.members.keys()) {
        try {
          world.component("start", `agent-${m}`);
        } catch {
          // already running
        }
      }
    };
    await world?.finish({ namespace: ns, cleanup: [startAgents] });
  });

  it(`back before tolerationSeconds (${within} s) ends: the replicas stay, the very same pods`, async function () {
    await runScenario({ name: `agent SIGKILL, back within toleration ${within}s`, world, members }, async (sc) => {
      world.apply([workloadManifest({ namespace: ns, name: "stay", replicas: 3, policy: "personal-data-eu", placement: { maxClusters: 3 }, failover: { tolerationSeconds: within } })]);
      const w = await settle({ world, sc, namespace: ns, name: "stay", replicas: 3 });
      const pods = await world.podsOf(w.uid);
      sc.keep(w.uid, pods.map((p) => p.uid));
      const victim = sc.pick(Object.keys(w.placed).filter((m) => world.members.has(m)));
      sc.note(`victim ${victim}, placed ${JSON.stringify(w.placed)}`);

      // The placement must not move at any point while the agent is away (checked on every poll).
      const unmoved = async (when: string) => {
        const now = await world.workload(ns, "stay");
        assert.deepEqual(placedOf(now!), w.placed, `the placement moved ${when}, inside the toleration`);
      };
      world.component("stop", `agent-${victim}`, ["--signal", "KILL"]);
      const notReady = await world.until(`${victim} NotReady`, async () => {
        await unmoved("before the member went NotReady");
        const mc = await world.memberCluster(victim);
        return mc.status?.conditions?.find((c) => c.type === "Ready")?.status === "False" ? mc : false;
      }, 60_000);
      const since = readySince(notReady);
      // Away for a random part of the first third of the toleration, then back.
      const awayMs = sc.int(0, Math.floor((within * 1000) / 3));
      await world.until(`${awayMs} ms of outage with the placement unmoved`, async () => {
        await unmoved("while the agent was away");
        return Date.now() - since >= awayMs;
      }, within * 1000);
      const back = Date.now();
      world.component("start", `agent-${victim}`);
      await world.until(`${victim} Ready again`, async () => {
        await unmoved("while the agent was coming back");
        const mc = await world.memberCluster(victim);
        return mc.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      }, 60_000);
      const readyAfter = (Date.now() - since) / 1000;
      assert.ok(readyAfter < within, `the member was NotReady ${readyAfter.toFixed(1)} s, not inside the toleration (${within} s): the scenario proves nothing on so slow a machine`);
      await unmoved("after the member was Ready again");
      const again = await world.untilPods(w.uid, w.placed, 60_000);
      assert.deepEqual(again.map((p) => p.uid).sort(), pods.map((p) => p.uid).sort(), "the pods were replaced although the agent came back inside the toleration");
      sc.recovered(back);
      sc.note(`NotReady for ${readyAfter.toFixed(1)} s of a ${within} s toleration; the placement never moved and the ${pods.length} pods kept their uids`);
      world.kubectl(["delete", "swl/stay", "-n", ns, "--wait=true", "--timeout=90s"]);
      sc.expectGone({ uid: w.uid, name: "stay" });
      await world.until("nothing left of the deleted workload", async () => (await world.podsOf(w.uid)).length === 0, 60_000);
    });
  });

  it(`back after tolerationSeconds (${afterT} s): moved within residency once it ended, the surplus goes on return`, async function () {
    await runScenario({ name: `agent SIGKILL, back after toleration ${afterT}s`, world, members }, async (sc) => {
      world.apply([workloadManifest({ namespace: ns, name: "move", replicas: 3, policy: "personal-data-eu", placement: { maxClusters: 3 }, failover: { tolerationSeconds: afterT } })]);
      const w = await settle({ world, sc, namespace: ns, name: "move", replicas: 3 });
      const victim = sc.pick(Object.keys(w.placed).filter((m) => world.members.has(m)));
      const pods = await world.podsOf(w.uid);
      // What runs elsewhere must survive the move (it is topped up, not replaced).
      sc.keep(w.uid, pods.filter((p) => p.member !== victim).map((p) => p.uid));
      sc.note(`victim ${victim}, placed ${JSON.stringify(w.placed)}`);

      world.component("stop", `agent-${victim}`, ["--signal", "KILL"]);
      const since = readySince(await world.untilMemberReady(victim, false, 60_000));
      const moved = await settle({ world, sc, namespace: ns, name: "move", replicas: 3, avoid: [victim], ignorePodsOn: [victim], timeoutMs: (afterT + 90) * 1000, what: "re-placed" });
      const movedAfter = (Date.now() - since) / 1000;
      // lastTransitionTime has whole seconds: one second of slack.
      assert.ok(movedAfter >= afterT - 1, `the replicas moved ${movedAfter.toFixed(1)} s after NotReady, before the toleration (${afterT} s) ended`);
      const left = (await world.podsOf(w.uid)).filter((p) => p.member === victim).length;
      sc.note(`moved ${movedAfter.toFixed(1)} s after NotReady (toleration ${afterT} s) to ${JSON.stringify(moved.placed)}; ${left} surplus pod(s) left on ${victim} while its agent was away`);

      const back = Date.now();
      world.component("start", `agent-${victim}`);
      await world.untilMemberReady(victim, true, 60_000);
      const final = await settle({ world, sc, namespace: ns, name: "move", replicas: 3, what: "Ready after the agent's return" });
      await world.until(`no surplus pod of move left on ${victim}`, async () =>
        (await world.podsOf(w.uid)).filter((p) => p.member === victim).length === (final.placed[victim] ?? 0), 60_000);
      await world.untilPods(w.uid, final.placed, 60_000);
      sc.recovered(back);
      world.kubectl(["delete", "swl/move", "-n", ns, "--wait=true", "--timeout=90s"]);
      sc.expectGone({ uid: w.uid, name: "move" });
      await world.until("nothing left of the deleted workload", async () => (await world.podsOf(w.uid)).length === 0, 60_000);
    });
  });
});
