import assert from "node:assert/strict";
import { condition, countByMember, FRENCH, workloadManifest, World } from "./support/world.ts";

/**
 * Residency first, then availability: a member whose agent stops goes NotReady, and
 * only then, after failover.tolerationSeconds, do its replicas move, and only to
 * clusters the workload's residency allows. With no such cluster they stay put.
 */
describe("failover within residency, end to end (agents stopped and started with hack/federation)", function () {
  this.timeout(300_000);
  const ns = "e2e-failover";
  let world: World;

  before(async function () {
    world = await World.ready({ namespace: ns });
  });

  afterEach(async function () {
    await world.auditor.check(this.currentTest?.title ?? "step");
  });

  after(async function () {
    // Whatever happened, leave every agent running for the next file.
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

  it("re-places EU replicas of a stopped member elsewhere in the EU; a DE-only workload with no other DE cluster stays put; the surplus goes when the member returns", async function () {
    world.apply([
      // Divided over the three unexposed members (aws-fra-1 is excluded by the policy).
      workloadManifest({ namespace: ns, name: "eu", replicas: 3, policy: "personal-data-eu", placement: { maxClusters: 3 }, failover: { tolerationSeconds: 0 } }),
      // Only ionos-fra-1 satisfies it: Germany, not exposed, and never across the border.
      workloadManifest({
        namespace: ns, name: "de-only", replicas: 2, failover: { tolerationSeconds: 0 },
        residency: { allowedCountries: ["DE"], forbidExtraterritorialExposure: true, crossBorderFailover: false },
      }),
    ]);
    let eu = await world.untilStatus(ns, "eu", "Ready with 3 on 3 clusters", (w) => w.status?.readyReplicas === 3 && w.status?.placements?.length === 3);
    assert.ok(eu.status?.placements?.some((p) => p.cluster === "ionos-fra-1"), JSON.stringify(eu.status?.placements));
    const de = await world.untilStatus(ns, "de-only", "Ready with 2", (w) => w.status?.readyReplicas === 2);
    assert.deepEqual(de.status?.placements?.map((p) => p.cluster), ["ionos-fra-1"]);
    await world.untilPods(de.metadata.uid!, { "ionos-fra-1": 2 });

    world.component("stop", "agent-ionos-fra-1");
    try {
      const mc = await world.untilMemberReady("ionos-fra-1", false, 60_000);
      assert.match(mc.status?.conditions?.find((c) => c.type === "Ready")?.reason ?? "", /Heartbeat/);
      // The EU workload's replica moves to a French member (crossBorderFailover is allowed for this data class).
      eu = await world.untilStatus(ns, "eu", "re-placed off ionos-fra-1", (w) =>
        !w.status?.placements?.some((p) => p.cluster === "ionos-fra-1") && w.status?.placements?.reduce((n, p) => n + p.replicas, 0) === 3);
      assert.ok(eu.status?.placements?.every((p) => (FRENCH as readonly string[]).includes(p.cluster)), JSON.stringify(eu.status?.placements));
      const moved = await world.until("3 EU pods Running on the French members", async () => {
        const pods = (await world.podsOf(eu.metadata.uid!)).filter((p) => p.member !== "ionos-fra-1" && p.phase === "Running");
        return pods.length === 3 ? pods : false;
      });
      assert.ok(moved.every((p) => (FRENCH as readonly string[]).includes(p.member)));
      // The DE-only workload has nowhere to go: it stays where it is, says so, and nothing of it reaches France.
      const stuck = await world.untilStatus(ns, "de-only", "NoCompliantCluster while ionos-fra-1 is NotReady", (w) => condition(w, "Scheduled")?.reason === "NoCompliantCluster");
      assert.deepEqual(stuck.status?.placements?.map((p) => [p.cluster, p.replicas]), [["ionos-fra-1", 2]]);
      const dePods = await world.podsOf(de.metadata.uid!);
      assert.deepEqual(countByMember(dePods), { "ionos-fra-1": 2 }, "DE-only pods must stay on ionos-fra-1 and never appear in France");
    } finally {
      world.component("start", "agent-ionos-fra-1");
    }
    await world.untilMemberReady("ionos-fra-1", true, 60_000);
    // Back: the EU surplus left on ionos-fra-1 goes; the DE-only workload is Scheduled again, in place.
    await world.until("no EU pod left on ionos-fra-1", async () => !(await world.podsOf(eu.metadata.uid!)).some((p) => p.member === "ionos-fra-1"));
    const euPods = await world.untilPods(eu.metadata.uid!, Object.fromEntries(eu.status!.placements!.map((p) => [p.cluster, p.replicas])));
    assert.equal(euPods.length, 3);
    await world.untilStatus(ns, "de-only", "Scheduled again on ionos-fra-1", (w) => condition(w, "Scheduled")?.status === "True" && w.status?.readyReplicas === 2);
    await world.untilPods(de.metadata.uid!, { "ionos-fra-1": 2 });
  });

  it("an agent restarted keeps the very same pods (same UIDs), and goes on applying", async function () {
    world.apply([workloadManifest({ namespace: ns, name: "steady", replicas: 2, residency: { allowedCountries: ["FR"] }, placement: { maxClusters: 1 } })]);
    const w = await world.untilStatus(ns, "steady", "Ready with 2", (w) => w.status?.readyReplicas === 2);
    const member = w.status!.placements![0]!.cluster;
    const before = (await world.untilPods(w.metadata.uid!, { [member]: 2 })).map((p) => p.uid).sort();
    world.component("stop", `agent-${member}`);
    world.component("start", `agent-${member}`);
    // Positive control: the restarted agent applies a new intent (scale to 3)...
    world.kubectl(["scale", "swl/steady", "-n", ns, "--replicas=3"]);
    const pods = await world.untilPods(w.metadata.uid!, { [member]: 3 });
    // ...and the two pods it had before are the same pods, never deleted and recreated.
    const after = pods.map((p) => p.uid);
    for (const uid of before) assert.ok(after.includes(uid), `pod ${uid} was replaced after the agent restarted`);
  });
});
