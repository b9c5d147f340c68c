import assert from "node:assert/strict";
import type { MemberCluster } from "../../operator/src/api/index.ts";
import { condition, workloadManifest, World } from "../e2e/support/world.ts";
import { Members, placedOf, runScenario, settle, SHORT } from "./support/chaos.ts";
import { memberStreamClusters } from "../../operator/src/federation/index.ts";
import { connectAs } from "../integration/federation/helpers.ts";

/**
 * Changes of the federation's objects while faults are around: a workload deleted while
 * its member is down, a ResidencyPolicy tightened, two workloads competing for one
 * cluster's room, `crossBorderFailover: false` during a failover, and a MemberCluster
 * deleted with pods on it (last: the file declares it again afterwards).
 */
const GROUP = "sovereignty.eu/v1alpha1";

function countryOf(mc: MemberCluster): string {
  return (mc.spec as { residency: { country: string } }).residency.country;
}

/** A quantity of CPU in cores ("64", "500m"). */
function cores(q: string | number | undefined): number {
  if (q === undefined) return NaN;
  const s = String(q);
  return s.endsWith("m") ? Number(s.slice(0, -1)) / 1000 : Number(s);
}

describe("chaos: workloads, policies and members changed around faults", function () {
  this.timeout(SHORT ? 180_000 : 300_000);
  const ns = "chaos-lifecycle";
  let world: World;
  let members: Members;

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
  });

  after(async function () {
    const restore = async () => {
      world.applyFiles(["crds/examples/10-member-clusters.yaml"]);
      for (const m of world.members.keys()) {
        try {
          world.component("start", `agent-${m}`);
        } catch {
          // already running
        }
      }
      for (const m of world.members.keys()) await world.untilMemberReady(m, true, 90_000);
    };
    await world?.finish({ namespace: ns, cleanup: [restore, () => world.kubectl(["delete", "residencypolicy", "chaos-tightened", "--ignore-not-found"])] });
  });

  it("a workload deleted while its member is down: its pods go when the member returns", async function () {
    await runScenario({ name: "workload deleted while its member is down", world, members }, async (sc) => {
      const member = "ionos-fra-1";
      world.apply([workloadManifest({
        namespace: ns, name: "doomed", replicas: 2, failover: { tolerationSeconds: 600 },
        residency: { allowedCountries: ["DE"], forbidExtraterritorialExposure: true, crossBorderFailover: false },
      })]);
      const w = await settle({ world, sc, namespace: ns, name: "doomed", replicas: 2 });
      assert.deepEqual(Object.keys(w.placed), [member]);
      world.component("stop", `agent-${member}`, ["--signal", "KILL"]);
      let back: number;
      try {
        await world.untilMemberReady(member, false, 60_000);
        world.kubectl(["delete", "swl/doomed", "-n", ns, "--wait=false"]);
        sc.expectGone({ uid: w.uid, name: "doomed" });
        // Gone from the host (or held by a finalizer until the member confirms): either way its pods are still there.
        await world.until("the workload deleted on the host", async () => {
          const now = await world.workload(ns, "doomed");
          return now === undefined || now.metadata.deletionTimestamp !== undefined;
        }, 60_000);
        const left = (await world.podsOf(w.uid)).length;
        sc.note(`${left} pod(s) still on ${member} while it is down (nobody there to remove them)`);
      } finally {
        back = Date.now();
        world.component("start", `agent-${member}`);
      }
      await world.untilMemberReady(member, true, 60_000);
      await world.until("nothing of the deleted workload on the returned member", async () => {
        const objects = (await members.list()).filter((o) => o.workloadUid === w.uid && (o.kind === "Pod" || o.replicas > 0));
        return objects.length === 0;
      }, 90_000);
      await world.until("the workload gone from the host", async () => (await world.workload(ns, "doomed")) === undefined, 60_000);
      sc.recovered(back);
    });
  });

  it("a ResidencyPolicy tightened: replicas leave the members it no longer allows at once", async function () {
    await runScenario({ name: "ResidencyPolicy tightened", world, members }, async (sc) => {
      const policy = (countries?: string[]) => ({
        apiVersion: GROUP, kind: "ResidencyPolicy", metadata: { name: "chaos-tightened" },
        spec: { allowedJurisdictions: ["EU"], forbidExtraterritorialExposure: true, ...(countries ? { allowedCountries: countries } : {}) },
      });
      world.apply([policy()]);
      world.apply([workloadManifest({ namespace: ns, name: "tight", replicas: 3, policy: "chaos-tightened", placement: { maxClusters: 3 }, failover: { tolerationSeconds: 600 } })]);
      const w = await settle({ world, sc, namespace: ns, name: "tight", replicas: 3 });
      const german = Object.keys(w.placed).filter((m) => m === "ionos-fra-1");
      assert.ok(german.length, `the workload must start with a replica in Germany to show it leave: ${JSON.stringify(w.placed)}`);
      const tightened = Date.now();
      world.apply([policy(["FR"])]);
      const after = await settle({ world, sc, namespace: ns, name: "tight", replicas: 3, avoid: german, what: "only in France" });
      const s = sc.recovered(tightened);
      sc.note(`left ${german.join(",")} ${s.toFixed(1)} s after the policy allowed FR only: now ${JSON.stringify(after.placed)}`);
      // "At once": no toleration applies to a fact change; the auditor's grace after a change is 60 s.
      assert.ok(s <= 30, `replicas left the disallowed member only ${s.toFixed(1)} s after the policy changed`);
      world.kubectl(["delete", "swl/tight", "-n", ns, "--wait=true", "--timeout=90s"]);
      sc.expectGone({ uid: w.uid, name: "tight" });
    });
  });

  it("two workloads competing for one cluster's room: neither over-commits it", async function () {
    await runScenario({ name: "two workloads, one cluster's room", world, members }, async (sc) => {
      const member = "ionos-fra-1";
      const mc = await world.memberCluster(member);
      const room = cores((mc.status as { allocatable?: { cpu?: string } } | undefined)?.allocatable?.cpu);
      assert.ok(room > 0, `MemberCluster ${member} declares no allocatable cpu: ${JSON.stringify(mc.status)}`);
      // Each alone fits (60 % of the room); both together do not (120 %).
      const perPod = Math.floor((room * 0.3) * 1000);
      const manifests = ["left", "right"].map((name) => {
        const m = workloadManifest({
          namespace: ns, name, replicas: 2, failover: { tolerationSeconds: 600 },
          residency: { allowedCountries: ["DE"], forbidExtraterritorialExposure: true, crossBorderFailover: false },
        });
        m.spec.template.spec!.containers[0]!.resources = { requests: { cpu: `${perPod}m`, memory: "16Mi" } };
        return m;
      });
      const applied = Date.now();
      world.apply(sc.random() < 0.5 ? manifests : [...manifests].reverse());
      const decided = async () => {
        const ws = await Promise.all(["left", "right"].map((n) => world.workload(ns, n)));
        return ws.every((w) => w && w.status?.observedGeneration === w.metadata.generation && condition(w, "Scheduled")) ? ws.map((w) => w!) : false;
      };
      await world.until("both workloads decided", decided, 60_000);
      // No fault here: "recovered" is how long the two took to be decided.
      sc.recovered(applied);
      // Hold a while: the invariant must hold at every look, not only once.
      const t0 = Date.now();
      let last: string[] = [];
      await world.until("10 s of both workloads within the room", async () => {
        const ws = (await decided()) || [];
        const used = ws.reduce((n, w) => n + (placedOf(w)[member] ?? 0) * perPod / 1000, 0);
        last = ws.map((w) => `${w.metadata.name}: ${JSON.stringify(placedOf(w))} ${condition(w, "Scheduled")?.reason}`);
        assert.ok(used <= room, `over-committed ${member}: ${used} of ${room} cores placed (${last.join("; ")})`);
        return Date.now() - t0 >= 10_000;
      }, 20_000);
      const ws = (await decided()) || [];
      const placedBoth = ws.filter((w) => (placedOf(w)[member] ?? 0) > 0);
      assert.ok(placedBoth.length >= 1, `neither workload placed (positive control): ${last.join("; ")}`);
      for (const w of ws) {
        const placed = placedOf(w);
        sc.expect({ uid: w.metadata.uid!, name: w.metadata.name, want: placed });
        if (Object.keys(placed).length) await world.untilPods(w.metadata.uid!, placed, 90_000);
      }
      sc.note(`room ${room} cores, ${perPod / 1000} per pod: ${last.join("; ")}`);
      world.kubectl(["delete", "swl/left", "swl/right", "-n", ns, "--wait=true", "--timeout=90s"]);
      for (const w of ws) sc.expectGone({ uid: w.metadata.uid!, name: w.metadata.name });
    });
  });

  it("crossBorderFailover: false: the replacement is in the same country", async function () {
    await runScenario({ name: "crossBorderFailover false", world, members }, async (sc) => {
      world.apply([workloadManifest({
        namespace: ns, name: "home", replicas: 2, placement: { maxClusters: 1 }, failover: { tolerationSeconds: 5 },
        residency: { allowedJurisdictions: ["EU"], crossBorderFailover: false },
      })]);
      const w = await settle({ world, sc, namespace: ns, name: "home", replicas: 2 });
      const [victim] = Object.keys(w.placed);
      const country = countryOf(await world.memberCluster(victim!));
      const sameCountry = [];
      for (const m of world.members.keys()) if (m !== victim && countryOf(await world.memberCluster(m)) === country) sameCountry.push(m);
      sc.note(`on ${victim} (${country}); same-country members with an agent: ${sameCountry.join(",") || "none"}`);
      world.component("stop", `agent-${victim}`, ["--signal", "KILL"]);
      let back: number;
      try {
        await world.untilMemberReady(victim!, false, 60_000);
        if (sameCountry.length) {
          const moved = await settle({ world, sc, namespace: ns, name: "home", replicas: 2, avoid: [victim!], ignorePodsOn: [victim!], timeoutMs: 90_000, what: "re-placed" });
          for (const m of Object.keys(moved.placed)) assert.equal(countryOf(await world.memberCluster(m)), country, `replaced across the border to ${m}`);
          sc.note(`replaced on ${JSON.stringify(moved.placed)}`);
        } else {
          const stuck = await world.untilStatus(ns, "home", "NoCompliantCluster", (x) => condition(x, "Scheduled")?.reason === "NoCompliantCluster", 60_000);
          assert.deepEqual(Object.keys(placedOf(stuck)), [victim]);
        }
      } finally {
        back = Date.now();
        world.component("start", `agent-${victim}`);
      }
      await world.untilMemberReady(victim!, true, 60_000);
      const final = await settle({ world, sc, namespace: ns, name: "home", replicas: 2, what: "Ready after the agent's return" });
      for (const m of Object.keys(final.placed)) assert.equal(countryOf(await world.memberCluster(m)), country);
      sc.recovered(back);
      world.kubectl(["delete", "swl/home", "-n", ns, "--wait=true", "--timeout=90s"]);
      sc.expectGone({ uid: w.uid, name: "home" });
    });
  });

  it("a MemberCluster deleted with pods on it: replicas re-placed within residency, nothing left behind", async function () {
    await runScenario({ name: "MemberCluster deleted with pods", world, members }, async (sc) => {
      world.apply([workloadManifest({ namespace: ns, name: "spread", replicas: 3, policy: "personal-data-eu", placement: { maxClusters: 3 }, failover: { tolerationSeconds: 600 } })]);
      const w = await settle({ world, sc, namespace: ns, name: "spread", replicas: 3 });
      const victim = sc.pick(Object.keys(w.placed).filter((m) => world.members.has(m)));
      sc.note(`deleting MemberCluster ${victim}; placed ${JSON.stringify(w.placed)}`);
      const deleted = Date.now();
      world.kubectl(["delete", "membercluster", victim, "--wait=true", "--timeout=60s"]);
      const moved = await settle({ world, sc, namespace: ns, name: "spread", replicas: 3, avoid: [victim], timeoutMs: 90_000, what: "re-placed off the deleted member" });
      await world.until(`nothing of spread left on ${victim}`, async () =>
        !(await members.list()).some((o) => o.workloadUid === w.uid && o.member === victim && (o.kind === "Pod" || o.replicas > 0)), 90_000);
      sc.recovered(deleted);
      sc.note(`re-placed on ${JSON.stringify(moved.placed)}, nothing left on ${victim}`);
      // Its NATS streams go once its agent took the removals (each reserves storage on the server).
      const cp = await connectAs(world.env, "control-plane");
      try {
        const jsm = await cp.manager();
        const still = Object.keys(moved.placed)[0]!;
        assert.ok((await memberStreamClusters(jsm)).includes(still), `${still}, still declared, keeps its streams (the control)`);
        await world.until(`${victim}'s NATS streams removed`, async () => !(await memberStreamClusters(jsm)).includes(victim), 90_000);
        sc.note(`${victim}'s intents and status streams removed ${((Date.now() - deleted) / 1000).toFixed(1)} s after its MemberCluster was deleted`);
        // Declared again: its streams come back, and intents reach its agent (which was never restarted).
        world.applyFiles(["crds/examples/10-member-clusters.yaml"]);
        await world.untilMemberReady(victim, true, 90_000);
        await world.until(`${victim}'s NATS streams created again`, async () => (await memberStreamClusters(jsm)).includes(victim), 60_000);
      } finally {
        await cp.drain().catch(() => undefined);
      }
      world.apply([workloadManifest({ namespace: ns, name: "everywhere", replicas: 1, policy: "public", placement: { mode: "Duplicated" } })]);
      const everywhere = await settle({ world, sc, namespace: ns, name: "everywhere", replicas: world.members.size, what: `Ready on every member, ${victim} included` });
      assert.equal(everywhere.placed[victim], 1, `a replica on ${victim} again: ${JSON.stringify(everywhere.placed)}`);
      world.kubectl(["delete", "swl/spread", "swl/everywhere", "-n", ns, "--wait=true", "--timeout=90s"]);
      sc.expectGone({ uid: w.uid, name: "spread" });
      sc.expectGone({ uid: everywhere.uid, name: "everywhere" });
    });
  });
});
