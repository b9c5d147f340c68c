import assert from "node:assert/strict";
import type { SovereignWorkload } from "../../operator/src/api/index.ts";
import { KubeMemberApi } from "../../operator/src/kube/index.ts";
import type { Deployment } from "../../operator/src/kube/index.ts";
import { waitFor } from "../../operator/src/runtime/index.ts";
import { condition, workloadManifest, World } from "./support/world.ts";

/**
 * Drift on a member (a member admin's mistake, a cleanup script) is repaired by the
 * member's agent alone: a Deployment deleted, scaled, given another image, and its whole
 * namespace deleted, are each restored within seconds, while the member stays Ready and
 * the host's placement does not move. And while a Deployment is missing, the host does
 * not say the workload is Ready.
 */
describe("drift on a member is repaired by its agent, end to end", function () {
  this.timeout(300_000);
  const ns = "e2e-drift";
  const name = "records";
  /** The agent's target for each repair (issue 13); the test's deadline leaves room for a loaded machine. */
  const DEADLINE_MS = 10_000;
  let world: World;
  let w: SovereignWorkload;
  let member: string;
  let api: KubeMemberApi;
  const repairs: Record<string, number> = {};

  const onMember = (args: string[]) => world.kubectl(args, { kubeconfig: world.env.memberKubeconfigs[member]! });
  const deployment = () => api.getDeployment(ns, name);
  const placements = (x: SovereignWorkload) => JSON.stringify((x.status?.placements ?? []).map((p) => [p.cluster, p.replicas]));
  const image = (d: Deployment | undefined) => ((d?.spec.template.spec?.containers as { image: string }[] | undefined) ?? [])[0]?.image;

  /** Waits until `repaired` holds, and records how long it took from now. */
  async function timed(what: string, repaired: () => Promise<boolean>, deadlineMs = DEADLINE_MS): Promise<number> {
    const t0 = Date.now();
    await waitFor(repaired, { what, timeoutMs: deadlineMs, intervalMs: 50 });
    const ms = Date.now() - t0;
    repairs[what] = ms;
    return ms;
  }

  before(async function () {
    world = await World.ready({ namespace: ns });
    world.auditor.watch();
    world.apply([workloadManifest({ namespace: ns, name, replicas: 2, residency: { allowedCountries: ["FR"] }, placement: { maxClusters: 1 } })]);
    w = await world.untilStatus(ns, name, "Ready with 2 on one French member", (x) => x.status?.readyReplicas === 2 && x.status?.placements?.length === 1);
    member = w.status!.placements![0]!.cluster;
    api = new KubeMemberApi({ source: { kubeconfigFile: world.env.memberKubeconfigs[member]! } });
    await world.untilPods(w.metadata.uid!, { [member]: 2 });
  });

  afterEach(async function () {
    const test = this.currentTest?.title ?? "step";
    await world.auditor.check(test);
    // Whatever the member went through, the host never saw it NotReady and placed nothing elsewhere.
    const mc = await world.memberCluster(member);
    assert.equal(mc.status?.conditions?.find((c) => c.type === "Ready")?.status, "True", `${member} stayed Ready`);
    const now = await world.untilStatus(ns, name, "Ready again with 2", (x) => x.status?.readyReplicas === 2 && condition(x, "Ready")?.status === "True");
    assert.equal(placements(now), placements(w), "the host's placement changed");
    await world.untilPods(w.metadata.uid!, { [member]: 2 });
  });

  after(async function () {
    if (Object.keys(repairs).length) console.log(`      repair times on ${member}: ${Object.entries(repairs).map(([k, v]) => `${k} ${v} ms`).join(", ")}`);
    world?.kubectl(["delete", "sovereignworkloads", "--all", "-n", ns, "--wait=true", "--timeout=90s"]);
    await world?.auditor.stopWatching();
  });

  it("recreates a Deployment deleted on the member", async function () {
    const before = (await deployment())!;
    onMember(["delete", "deployment", name, "-n", ns, "--wait=false"]);
    await timed("deleted", async () => {
      const d = await deployment();
      return d !== undefined && d.metadata.uid !== before.metadata.uid && d.spec.replicas === 2;
    });
  });

  it("scales a Deployment scaled on the member back to its intent", async function () {
    const at = Number(onMember(["patch", "deployment", name, "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":7}}', "-o", "jsonpath={.metadata.generation}"]));
    await timed("scaled", async () => {
      const d = await deployment();
      return d !== undefined && (d.metadata.generation ?? 0) > at && d.spec.replicas === 2;
    });
  });

  it("reverts a Deployment given another image on the member", async function () {
    const want = image(await deployment());
    assert.ok(want);
    const at = Number(onMember(["set", "image", `deployment/${name}`, "-n", ns, "app=registry.example.eu/not-approved:6.6", "-o", "jsonpath={.metadata.generation}"]));
    await timed("image edited", async () => {
      const d = await deployment();
      return d !== undefined && (d.metadata.generation ?? 0) > at && image(d) === want;
    });
  });

  it("recreates the namespace and the Deployment when the namespace is deleted on the member", async function () {
    const nsUid = onMember(["get", "namespace", ns, "-o", "jsonpath={.metadata.uid}"]);
    onMember(["delete", "namespace", ns, "--wait=false"]);
    // The member's namespace controller empties the namespace before it goes: that takes
    // its own time, so the deadline is the whole sequence's.
    await timed("namespace deleted", async () => {
      let now: string;
      try {
        now = onMember(["get", "namespace", ns, "-o", "jsonpath={.metadata.uid} {.metadata.deletionTimestamp}"]).trim();
      } catch {
        return false; // gone, not recreated yet
      }
      // A new namespace (another uid, not terminating) holding the workload's Deployment again.
      if (now.includes(" ") || now === nsUid) return false;
      return (await deployment())?.spec.replicas === 2;
    }, 60_000);
  });

  it("never reports the workload Ready while its Deployment is missing (held missing by a quota), and restores it once it may", async function () {
    // A quota of zero Deployments in the namespace: the agent's recreate is refused until it goes.
    onMember(["create", "quota", "no-deployments", "-n", ns, "--hard=count/deployments.apps=0"]);
    try {
      onMember(["delete", "deployment", name, "-n", ns, "--wait=false"]);
      const notReady = await world.untilStatus(ns, name, "Ready not True while the Deployment is missing", (x) => condition(x, "Ready")?.status !== "True", 60_000);
      assert.equal(await deployment(), undefined, "the Deployment came back although the quota forbids it");
      assert.equal(condition(notReady, "Ready")?.status, "False");
    } finally {
      onMember(["delete", "quota", "no-deployments", "-n", ns]);
    }
    // Retried with backoff (at most 30 s apart), so the deadline is longer than a repair's.
    await timed("quota lifted", async () => (await deployment())?.spec.replicas === 2, 60_000);
  });
});
