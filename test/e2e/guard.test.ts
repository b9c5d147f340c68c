import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { stringify } from "yaml";
import { MEMBER_LABELS, REQUIREMENT_ANNOTATIONS } from "../../operator/src/api/index.ts";
import { restrictedSecurityContext } from "../support/builders.ts";
import { workloadManifest, World } from "./support/world.ts";

/**
 * The member's residency guard (a ValidatingAdmissionPolicy the agent keeps fed with
 * the host's facts) refuses sovereign pods the member may not run, whoever creates
 * them: here a pod copied from a French-only workload and created with kubectl on a
 * German member.
 */
describe("the member residency guard, end to end", function () {
  this.timeout(120_000);
  const ns = "e2e-guard";
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

  function createOn(member: string, pod: object): { status: number; stderr: string } {
    const r = spawnSync(world.kubectlBin, ["--kubeconfig", world.env.memberKubeconfigs[member]!, "create", "-f", "-"], { input: stringify(pod), encoding: "utf8" });
    return { status: r.status ?? -1, stderr: r.stderr };
  }

  it("rejects on a German member a pod copied from a French-only workload, and admits one copied from an EU workload", async function () {
    world.apply([
      workloadManifest({ namespace: ns, name: "fr-only", replicas: 1, policy: "health-fr-hds" }),
      workloadManifest({ namespace: ns, name: "de-ok", replicas: 1, residency: { allowedCountries: ["DE"], forbidExtraterritorialExposure: true } }),
    ]);
    const fr = await world.untilStatus(ns, "fr-only", "Ready", (w) => w.status?.readyReplicas === 1);
    const de = await world.untilStatus(ns, "de-ok", "Ready", (w) => w.status?.readyReplicas === 1);
    const [frPod] = await world.untilPods(fr.metadata.uid!, { [fr.status!.placements![0]!.cluster]: 1 });
    const [dePod] = await world.untilPods(de.metadata.uid!, { "ionos-fra-1": 1 });

    const copy = async (from: { member: string; namespace: string; name: string }, name: string) => {
      const out = world.kubectl(["get", "pod", from.name, "-n", from.namespace, "-o", "json"], { kubeconfig: world.env.memberKubeconfigs[from.member]! });
      const pod = JSON.parse(out) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
      const meta = pod.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> };
      // Without the ReplicaSet's hash label, so the member's ReplicaSet does not adopt (and delete) the copy.
      const { "pod-template-hash": _hash, ...labels } = meta.labels ?? {};
      return {
        apiVersion: "v1", kind: "Pod",
        metadata: { name, namespace: ns, labels, annotations: meta.annotations },
        // The containers as the workload declared them, without what the member added (the service account token mount).
        spec: { containers: (pod.spec.containers as { name: string; image: string; resources?: unknown; securityContext?: unknown }[]).map((c) => ({ name: c.name, image: c.image, resources: c.resources, securityContext: c.securityContext })) },
      };
    };
    const german = "ionos-fra-1";
    spawnSync(world.kubectlBin, ["--kubeconfig", world.env.memberKubeconfigs[german]!, "create", "namespace", ns], { encoding: "utf8" });

    const smuggled = await copy(frPod!, "smuggled-health-record");
    assert.equal((smuggled.metadata.annotations as Record<string, string>)[REQUIREMENT_ANNOTATIONS.allowedCountries], "FR");
    const refused = createOn(german, smuggled);
    assert.notEqual(refused.status, 0, "the guard must refuse a French-only pod on a German member");
    assert.match(refused.stderr, /ValidatingAdmissionPolicy|denied/i);
    assert.match(refused.stderr, /country|DE/);

    const allowed = await copy(dePod!, "copied-german-pod");
    const admitted = createOn(german, allowed);
    assert.equal(admitted.status, 0, `a compliant copy must be admitted (positive control): ${admitted.stderr}`);
    world.kubectl(["get", "pod", "copied-german-pod", "-n", ns], { kubeconfig: world.env.memberKubeconfigs[german]! });
    world.kubectl(["delete", "pod", "copied-german-pod", "-n", ns, "--wait=false", "--ignore-not-found"], { kubeconfig: world.env.memberKubeconfigs[german]! });
  });

  it("the residency audit sees a Deployment on a member that may not hold it, even with no pod of it anywhere (the audit's positive control)", async function () {
    world.apply([workloadManifest({ namespace: ns, name: "fr-only", replicas: 1, policy: "health-fr-hds" })]);
    const fr = await world.untilStatus(ns, "fr-only", "Ready", (w) => w.status?.readyReplicas === 1);
    // On the bare German member: no agent, no guard. Paused, so its controller creates no
    // ReplicaSet and no pod: only the Deployment itself says the data was sent there.
    const member = "de";
    const name = "planted-fr-only";
    const kubeconfig = world.env.memberKubeconfigs[member]!;
    spawnSync(world.kubectlBin, ["--kubeconfig", kubeconfig, "create", "namespace", ns], { encoding: "utf8" });
    const annotations = { [REQUIREMENT_ANNOTATIONS.allowedCountries]: "FR", [REQUIREMENT_ANNOTATIONS.requiredCertifications]: "HDS" };
    const deployment = {
      apiVersion: "apps/v1", kind: "Deployment",
      metadata: { name, namespace: ns, labels: { [MEMBER_LABELS.workloadUid]: fr.metadata.uid! } },
      spec: {
        replicas: 2, paused: true, selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [{ name: "app", image: "registry.example.eu/e2e:1.0", securityContext: restrictedSecurityContext() }] } },
      },
    };
    world.auditor.plant({ member, kind: "Deployment", namespace: ns, name });
    try {
      world.kubectl(["create", "-f", "-"], { kubeconfig, input: JSON.stringify(deployment) });
      await world.until("the continuous audit to see the planted Deployment", async () => world.auditor.timesSeen({ member, kind: "Deployment", namespace: ns, name }) > 0, 90_000);
      const snap = await world.auditor.snapshot();
      const seen = snap.planted.filter((v) => v.object === `Deployment ${ns}/${name}`);
      assert.ok(seen.some((v) => v.code === "CountryNotAllowed" || v.code === "NoMemberCluster"), JSON.stringify(seen));
      assert.ok(!snap.pods.some((p) => p.member === member && p.namespace === ns), "no pod of it: the Deployment alone is the evidence");
    } finally {
      world.kubectl(["delete", "deployment", name, "-n", ns, "--ignore-not-found"], { kubeconfig });
    }
  });
});
