import assert from "node:assert/strict";
import { condition, countByMember, FRENCH, workloadManifest, World } from "./support/world.ts";

/**
 * A cluster admin applies SovereignWorkloads on the host; the control plane and the
 * agents run their pods only where their residency allows. The residency auditor lists
 * every pod on every member after every test and while they run.
 */
describe("placement within residency, end to end (host, four members with agents, real pods)", function () {
  this.timeout(180_000);
  const ns = "e2e-placement";
  let world: World;

  before(async function () {
    world = await World.ready({ namespace: ns });
  });

  afterEach(async function () {
    await world.auditor.check(this.currentTest?.title ?? "step");
  });

  after(async function () {
    await world?.finish({ namespace: ns });
  });

  it("runs a French-only HDS workload only on the French HDS members", async function () {
    world.apply([workloadManifest({ namespace: ns, name: "hds", replicas: 4, policy: "health-fr-hds" })]);
    const w = await world.untilStatus(ns, "hds", "Ready with 4 replicas", (w) => w.status?.readyReplicas === 4);
    assert.deepEqual(w.status?.countries, ["FR"]);
    assert.ok(w.status?.placements?.every((p) => (FRENCH as readonly string[]).includes(p.cluster)), JSON.stringify(w.status?.placements));
    assert.equal(condition(w, "Scheduled")?.status, "True");
    assert.equal(condition(w, "ResidencyCompliant")?.status, "True");
    const expected = Object.fromEntries(w.status!.placements!.map((p) => [p.cluster, p.replicas]));
    const pods = await world.untilPods(w.metadata.uid!, expected);
    assert.equal(pods.length, 4);
    assert.ok(pods.every((p) => (FRENCH as readonly string[]).includes(p.member)), JSON.stringify(countByMember(pods)));
    // Every rejected cluster says why: the German ones by country, the NotReady ones too.
    const rejected = new Map(w.status?.rejectedClusters?.map((r) => [r.cluster, r.reasons]));
    assert.ok(rejected.get("ionos-fra-1")?.includes("CountryNotAllowed"));
    assert.ok(rejected.get("aws-fra-1")?.includes("CountryNotAllowed"));
    assert.ok(rejected.get("outscale-fr-2")?.includes("NotReady"));
  });

  it("spreads an EU workload with minCountries 2 over France and Germany, never on the member exposed to US law", async function () {
    world.apply([
      workloadManifest({ namespace: ns, name: "eu", replicas: 4, policy: "personal-data-eu", placement: { spread: { minCountries: 2 } } }),
      // Positive control: a public workload on every Ready member proves aws-fra-1 does take pods.
      workloadManifest({ namespace: ns, name: "everywhere", replicas: 1, policy: "public", placement: { mode: "Duplicated" } }),
    ]);
    const eu = await world.untilStatus(ns, "eu", "Ready with 4 replicas", (w) => w.status?.readyReplicas === 4);
    assert.deepEqual(eu.status?.countries, ["DE", "FR"]);
    const euPods = await world.untilPods(eu.metadata.uid!, Object.fromEntries(eu.status!.placements!.map((p) => [p.cluster, p.replicas])));
    assert.ok(!euPods.some((p) => p.member === "aws-fra-1"), JSON.stringify(countByMember(euPods)));
    assert.ok(eu.status?.rejectedClusters?.find((r) => r.cluster === "aws-fra-1")?.reasons.includes("ExtraterritorialExposure"));
    const everywhere = await world.untilStatus(ns, "everywhere", "Ready on every member", (w) => w.status?.readyReplicas === world.members.size);
    const pods = await world.untilPods(everywhere.metadata.uid!, Object.fromEntries([...world.members.keys()].map((m) => [m, 1])));
    assert.ok(pods.some((p) => p.member === "aws-fra-1"));
  });

  it("places nothing anywhere for a workload no cluster satisfies, and says NoCompliantCluster", async function () {
    world.apply([
      workloadManifest({ namespace: ns, name: "italy-only", replicas: 2, residency: { allowedCountries: ["IT"] } }),
      // Positive control, applied after it: once this one runs, the first was processed too.
      workloadManifest({ namespace: ns, name: "after-italy", replicas: 1, policy: "public" }),
    ]);
    const italy = await world.untilStatus(ns, "italy-only", "Scheduled=False", (w) => condition(w, "Scheduled")?.status === "False");
    assert.equal(condition(italy, "Scheduled")?.reason, "NoCompliantCluster");
    assert.deepEqual(italy.status?.placements ?? [], []);
    const control = await world.untilStatus(ns, "after-italy", "Ready", (w) => w.status?.readyReplicas === 1);
    await world.untilPods(control.metadata.uid!, Object.fromEntries(control.status!.placements!.map((p) => [p.cluster, p.replicas])));
    assert.deepEqual(await world.podsOf(italy.metadata.uid!), []);
    for (const r of italy.status?.rejectedClusters ?? []) assert.ok(r.reasons.length > 0, r.cluster);
    assert.ok(italy.status?.rejectedClusters?.find((r) => r.cluster === "ovh-par-1")?.reasons.includes("CountryNotAllowed"));
  });

  it("a workload naming a ResidencyPolicy that does not exist says PolicyNotFound with an Event, and runs once the policy is applied", async function () {
    const policy = "e2e-later-fr";
    world.apply([workloadManifest({ namespace: ns, name: "waits-for-policy", replicas: 2, policy })]);
    const waiting = await world.untilStatus(ns, "waits-for-policy", "Scheduled=False", (w) => condition(w, "Scheduled")?.status === "False");
    const scheduled = waiting.status?.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.reason, "PolicyNotFound");
    assert.match(scheduled?.message ?? "", new RegExp(`spec\\.residencyPolicy: ResidencyPolicy "${policy}" does not exist`));
    assert.deepEqual(waiting.status?.placements ?? [], []);
    await world.until("an Unschedulable Event naming spec.residencyPolicy", async () => {
      const events = JSON.parse(world.kubectl(["get", "events", "-n", ns, "--field-selector", "involvedObject.name=waits-for-policy,reason=Unschedulable", "-o", "json"])) as { items: { message: string }[] };
      return events.items.some((e) => e.message.startsWith("PolicyNotFound: spec.residencyPolicy"));
    });
    assert.deepEqual(await world.podsOf(waiting.metadata.uid!), []);
    // The policy applied: the same workload is woken, placed within it, and runs (positive control).
    world.apply([{ apiVersion: "sovereignty.eu/v1alpha1", kind: "ResidencyPolicy", metadata: { name: policy }, spec: { allowedCountries: ["FR"] } }]);
    try {
      const w = await world.untilStatus(ns, "waits-for-policy", "Ready with 2", (w) => w.status?.readyReplicas === 2);
      assert.equal(condition(w, "Scheduled")?.status, "True");
      assert.deepEqual(w.status?.countries, ["FR"]);
      const pods = await world.untilPods(w.metadata.uid!, Object.fromEntries(w.status!.placements!.map((p) => [p.cluster, p.replicas])));
      assert.ok(pods.every((p) => (FRENCH as readonly string[]).includes(p.member)), JSON.stringify(countByMember(pods)));
    } finally {
      world.kubectl(["delete", "swl/waits-for-policy", "-n", ns, "--wait=true", "--timeout=60s"]);
      world.kubectl(["delete", "residencypolicy", policy, "--ignore-not-found"]);
    }
  });

  it("kubectl scale changes the pod counts on the members", async function () {
    world.apply([workloadManifest({ namespace: ns, name: "scaled", replicas: 2, policy: "personal-data-eu" })]);
    const two = await world.untilStatus(ns, "scaled", "Ready with 2", (w) => w.status?.readyReplicas === 2);
    assert.equal((await world.podsOf(two.metadata.uid!)).length, 2);
    world.kubectl(["scale", "swl/scaled", "-n", ns, "--replicas=6"]);
    let w = await world.untilStatus(ns, "scaled", "Ready with 6", (w) => w.status?.readyReplicas === 6 && w.status?.replicas === 6);
    let pods = await world.untilPods(w.metadata.uid!, Object.fromEntries(w.status!.placements!.map((p) => [p.cluster, p.replicas])));
    assert.equal(pods.length, 6);
    world.kubectl(["scale", "swl/scaled", "-n", ns, "--replicas=1"]);
    w = await world.untilStatus(ns, "scaled", "Ready with 1", (w) => w.status?.readyReplicas === 1 && w.status?.replicas === 1);
    pods = await world.untilPods(w.metadata.uid!, Object.fromEntries(w.status!.placements!.map((p) => [p.cluster, p.replicas])));
    assert.equal(pods.length, 1);
  });

  it("deleting a workload removes its pods from every member before the object goes", async function () {
    world.apply([workloadManifest({ namespace: ns, name: "doomed", replicas: 3, policy: "public", placement: { spread: { minCountries: 2 } } })]);
    const w = await world.untilStatus(ns, "doomed", "Ready with 3", (w) => w.status?.readyReplicas === 3);
    const uid = w.metadata.uid!;
    assert.equal((await world.podsOf(uid)).length, 3);
    assert.ok(w.metadata.finalizers?.includes("sovereignty.eu/member-cleanup"), JSON.stringify(w.metadata.finalizers));
    world.kubectl(["delete", "swl/doomed", "-n", ns, "--wait=true", "--timeout=60s"]);
    assert.equal(await world.workload(ns, "doomed"), undefined);
    await world.until("the deleted workload's pods to be gone from every member", async () => (await world.podsOf(uid)).length === 0);
  });
});
