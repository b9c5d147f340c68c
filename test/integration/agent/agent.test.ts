import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { PermissionViolationError } from "@nats-io/transport-node";
import { deploymentFor, FIELD_MANAGER } from "../../../operator/src/agent/index.ts";
import { ensureMemberStreams, ensureSharedStreams, NatsIntentSource, streams } from "../../../operator/src/federation/index.ts";
import type { FederationClient } from "../../../operator/src/federation/index.ts";
import { KubeMemberApi } from "../../../operator/src/kube/index.ts";
import type { Deployment } from "../../../operator/src/kube/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { connectAs, ensureMemberClusters, testLog, uid } from "../federation/helpers.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { intentFor, lastStatus, runningPods, startAgent, TEST_NAMESPACE, workloadPods } from "./helpers.ts";
import type { RunningAgent } from "./helpers.ts";

describe("member agent on the local federation (real member API servers, real nats-server)", function () {
  let env: FederationEnv;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  const members: Record<string, KubeMemberApi> = {};
  const running: RunningAgent[] = [];

  async function agentOn(cluster: string): Promise<RunningAgent> {
    const a = await startAgent(env, cluster);
    running.push(a);
    return a;
  }
  async function stopAgent(a: RunningAgent): Promise<void> {
    running.splice(running.indexOf(a), 1);
    await a.stop();
  }

  before(async function () {
    this.timeout(180_000);
    env = readFederationEnv();
    // Declared on the host: the control plane removes the streams of a member with no MemberCluster.
    ensureMemberClusters(env);
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    await ensureSharedStreams(jsm, { streams: { replicas: env.natsStreamReplicas } });
    for (const cluster of ["fr", "de"]) {
      await ensureMemberStreams(jsm, cluster, { streams: { replicas: env.natsStreamReplicas } });
      // Each run starts from an empty intents stream: earlier runs' intents would be resynced.
      await jsm.streams.purge(streams.intents(cluster));
      members[cluster] = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs[cluster]! } });
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[cluster]!, args: ["apply", "--server-side", "--field-manager=agent-test", "--force-conflicts", "-f", `${repoRoot}/charts/member-agent/files/residency-guard.yaml`] });
    }
  });

  afterEach(async () => {
    await Promise.allSettled(running.splice(0).map((a) => a.stop()));
  });

  after(async () => {
    await cp?.drain();
  });

  it("runs an intent as a Deployment whose pods go Running on kwok nodes, and reports readyReplicas back", async () => {
    const agent = await agentOn("fr");
    const w = uid();
    await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name: `web-${w.slice(0, 8)}`, replicas: 2 }));
    await runningPods(members.fr!, w, 2);
    const status = await waitFor(async () => {
      const s = await lastStatus(jsm, "fr", w);
      return s && s.readyReplicas === 2 ? s : undefined;
    }, { what: "status with 2 ready replicas", timeoutMs: 30_000 });
    assert.equal(status.desiredReplicas, 2);
    assert.equal(status.podPhases.Running, 2);
    assert.equal(status.message, "");
    assert.ok(agent.agent.guardReady, "the guard's parameter was written from the intent's facts");
  });

  it("scales with a newer intent without replacing the running pods, and deletes on a zero intent", async () => {
    await agentOn("fr");
    const w = uid();
    const name = `scale-${w.slice(0, 8)}`;
    const t0 = Date.now();
    await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 2, decidedAt: new Date(t0) }));
    const two = await runningPods(members.fr!, w, 2);
    await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 3, decidedAt: new Date(t0 + 1) }));
    const three = await runningPods(members.fr!, w, 3);
    assert.ok(two.every((p) => three.includes(p)), "scaling up kept the first two pods");
    await waitFor(async () => (await lastStatus(jsm, "fr", w))?.readyReplicas === 3, { what: "status 3 ready", timeoutMs: 30_000 });

    await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 0, decidedAt: new Date(t0 + 2) }));
    await waitFor(async () => (await members.fr!.getDeployment(TEST_NAMESPACE, name)) === undefined, { what: "Deployment deleted", timeoutMs: 30_000 });
    const gone = await waitFor(async () => {
      const s = await lastStatus(jsm, "fr", w);
      return s && s.desiredReplicas === 0 && s.readyReplicas === 0 ? s : undefined;
    }, { what: "status desired 0 ready 0", timeoutMs: 30_000 });
    assert.equal(gone.workload?.uid, w);
  });

  it("keeps the same pods across an agent restart (same ReplicaSet, same pod UIDs)", async () => {
    const first = await agentOn("fr");
    const w = uid();
    const name = `restart-${w.slice(0, 8)}`;
    await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 2 }));
    const before = await runningPods(members.fr!, w, 2);
    await stopAgent(first);
    const second = await agentOn("fr");
    // The new agent resynced (re-applied the same intent) before it said ready.
    assert.ok(second.agent.resyncs >= 1);
    const after = await runningPods(members.fr!, w, 2);
    assert.deepEqual(after, before);
  });

  it("removes, on the resync after a restart, a Deployment whose workload has no intent, and keeps one that has", async () => {
    const w1 = uid();
    const w2 = uid();
    const orphan = intentFor({ cluster: "fr", uid: w1, name: `orphan-${w1.slice(0, 8)}` , replicas: 1 });
    // As if applied by an earlier agent from an intent the stream no longer holds.
    await members.fr!.ensureNamespace(TEST_NAMESPACE, {});
    await members.fr!.applyDeployment({ deployment: deploymentFor(orphan), fieldManager: FIELD_MANAGER, force: true });
    const kept = intentFor({ cluster: "fr", uid: w2, name: `kept-${w2.slice(0, 8)}`, replicas: 1 });
    await cp.publish.intent(kept);
    await agentOn("fr");
    await waitFor(async () => (await members.fr!.getDeployment(TEST_NAMESPACE, orphan.workload!.name)) === undefined, { what: "orphan removed", timeoutMs: 30_000 });
    // Positive control: the workload with an intent is there and runs.
    assert.ok(await members.fr!.getDeployment(TEST_NAMESPACE, kept.workload!.name));
    await runningPods(members.fr!, w2, 1);
  });

  describe("drift on the member, repaired without a new intent", () => {
    const kc = (cluster: string, args: string[]) => kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[cluster]!, args });
    const ackPending = async (cluster: string) => (await jsm.consumers.info(streams.intents(cluster), streams.intentsConsumer(cluster))).num_ack_pending;

    it("recreates a deleted Deployment, reverts a scale and an image edit, each within seconds, and stays quiet when nothing drifted", async () => {
      const agent = await agentOn("fr");
      const w = uid();
      const name = `drift-${w.slice(0, 8)}`;
      await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 2 }));
      await runningPods(members.fr!, w, 2);
      const original = (await members.fr!.getDeployment(TEST_NAMESPACE, name))!;
      const timed = async (what: string, repaired: () => Promise<boolean>) => {
        const t0 = Date.now();
        await waitFor(repaired, { what, timeoutMs: 10_000, intervalMs: 50 });
        return Date.now() - t0;
      };

      kc("fr", ["delete", "deployment", name, "-n", TEST_NAMESPACE, "--wait=false"]);
      const deleted = await timed("the deleted Deployment recreated", async () => {
        const d = await members.fr!.getDeployment(TEST_NAMESPACE, name);
        return d !== undefined && d.metadata.uid !== original.metadata.uid && d.spec.replicas === 2;
      });
      await runningPods(members.fr!, w, 2);

      const scaledAt = Number(kc("fr", ["patch", "deployment", name, "-n", TEST_NAMESPACE, "--type=merge", "-p", '{"spec":{"replicas":5}}', "-o", "jsonpath={.metadata.generation}"]));
      const scaled = await timed("the scaled Deployment back at 2 replicas", async () => {
        const d = await members.fr!.getDeployment(TEST_NAMESPACE, name);
        return d !== undefined && (d.metadata.generation ?? 0) > scaledAt && d.spec.replicas === 2;
      });

      const image = (d: Deployment | undefined) => ((d?.spec.template.spec?.containers as { image: string }[] | undefined) ?? [])[0]?.image;
      const editedAt = Number(kc("fr", ["patch", "deployment", name, "-n", TEST_NAMESPACE, "--type=json", "-p", '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.example/app:evil"}]', "-o", "jsonpath={.metadata.generation}"]));
      const edited = await timed("the edited image reverted", async () => {
        const d = await members.fr!.getDeployment(TEST_NAMESPACE, name);
        return d !== undefined && (d.metadata.generation ?? 0) > editedAt && image(d) === "registry.example/app:1";
      });
      console.log(`      repair times on fr: deleted ${deleted} ms, scaled ${scaled} ms, image edited ${edited} ms`);
      await runningPods(members.fr!, w, 2);

      // Nothing drifted since: reconciles of the workload (as a relist causes) apply nothing.
      const applies = await agent.applies();
      const reconciles = async () => Number(/controller_runtime_reconcile_total\{controller="member-agent",result="success"\} (\d+)/.exec(await agent.metrics.metrics())?.[1] ?? NaN);
      const before = await reconciles();
      agent.agent.controller.enqueue(w);
      await waitFor(async () => (await reconciles()) > before, { what: "one more reconcile of the workload", timeoutMs: 10_000 });
      assert.equal(await agent.applies(), applies, "a reconcile with nothing drifted applied the Deployment again");
      // Positive control: the same reconcile after a scale does apply.
      kc("fr", ["scale", "deployment", name, "-n", TEST_NAMESPACE, "--replicas=4"]);
      await waitFor(async () => (await agent.applies()) > applies, { what: "an apply after the scale", timeoutMs: 10_000 });
    });

    it("waits while the workload's namespace is being deleted, acknowledges the intent only once it is applied in the recreated namespace", async () => {
      await agentOn("fr");
      const w = uid();
      const ns = `agent-it-ns-${w.slice(0, 6)}`;
      const name = `ns-${w.slice(0, 8)}`;
      const t0 = Date.now();
      const inNs = (replicas: number, at: number) => ({ ...intentFor({ cluster: "fr", uid: w, name, replicas, decidedAt: new Date(at) }), workload: { namespace: ns, name, uid: w } });
      await cp.publish.intent(inNs(1, t0));
      await runningPods(members.fr!, w, 1);
      // A finalizer holds the namespace in Terminating: the window in which nothing can be created in it.
      kc("fr", ["patch", "namespace", ns, "--type=merge", "-p", '{"metadata":{"finalizers":["sovereignty.eu/test-hold"]}}']);
      kc("fr", ["delete", "namespace", ns, "--wait=false"]);
      await waitFor(async () => (await members.fr!.getDeployment(ns, name)) === undefined, { what: "the namespace's Deployment removed with it", timeoutMs: 60_000 });

      const published = new Date();
      await cp.publish.intent(inNs(2, t0 + 1));
      // The agent reconciled the delivery (a status answers it)...
      await waitFor(async () => {
        const s = await lastStatus(jsm, "fr", w);
        return s !== undefined && s.reportedAt !== undefined && s.reportedAt >= published;
      }, { what: "a status after the new intent", timeoutMs: 20_000 });
      // ...but could not apply it: still unacknowledged, nothing created in the going namespace.
      assert.ok((await ackPending("fr")) >= 1, "the intent was acknowledged before it was applied");
      assert.equal(await members.fr!.getDeployment(ns, name), undefined);

      kc("fr", ["patch", "namespace", ns, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
      await runningPods(members.fr!, w, 2);
      await waitFor(async () => (await ackPending("fr")) === 0, { what: "the intent acknowledged once applied", timeoutMs: 20_000 });
      const recreated = kc("fr", ["get", "namespace", ns, "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}"]);
      assert.equal(recreated, "sovereign-agent");
      // Cleanup: the workload goes first, or the agent would recreate the namespace for it.
      await cp.publish.intent(inNs(0, t0 + 2));
      await waitFor(async () => (await members.fr!.getDeployment(ns, name)) === undefined, { what: "the workload removed", timeoutMs: 20_000 });
      kc("fr", ["delete", "namespace", ns, "--wait=false"]);
    });

    it("deletes nothing when NATS reconnects: the stream is read again and every pod stays", async () => {
      const running = await agentOn("fr");
      const w = uid();
      await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name: `reconnect-${w.slice(0, 8)}`, replicas: 2 }));
      const before = await runningPods(members.fr!, w, 2);
      const resyncs = running.agent.resyncs;
      await running.client.nc.reconnect();
      await waitFor(() => running.agent.resyncs > resyncs, { what: "a full read of the stream after the reconnect", timeoutMs: 30_000 });
      await waitFor(() => running.manager.ready(), { what: "ready again", timeoutMs: 30_000 });
      assert.deepEqual(await runningPods(members.fr!, w, 2), before);
    });

    it("leaves nothing of a workload behind once its zero intent has removed it", async () => {
      const running = await agentOn("fr");
      const w = uid();
      const name = `gone-${w.slice(0, 8)}`;
      const t0 = Date.now();
      await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 1, decidedAt: new Date(t0) }));
      await runningPods(members.fr!, w, 1);
      assert.ok(running.agent.reconciler.tracks(w), "the positive control: the running workload is tracked");
      await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name, replicas: 0, decidedAt: new Date(t0 + 1) }));
      await waitFor(() => !running.agent.reconciler.tracks(w), { what: "the workload's state pruned", timeoutMs: 30_000 });
    });
  });

  it("reports the guard's refusal when the member does not meet the workload's requirements", async () => {
    await agentOn("de");
    const w = uid();
    await cp.publish.intent(intentFor({ cluster: "de", uid: w, name: `fr-only-${w.slice(0, 8)}`, replicas: 1, allowedCountries: ["FR"] }));
    const s = await waitFor(async () => {
      const st = await lastStatus(jsm, "de", w);
      return st && /residency guard: the pod allows countries \[FR\] but member de is in country DE/.test(st.message) ? st : undefined;
    }, { what: "a status naming the guard's refusal", timeoutMs: 60_000 });
    assert.equal(s.readyReplicas, 0);
    assert.deepEqual(await workloadPods(members.de!, w), []);
  });

  describe("the residency guard, for pods created directly with kubectl", () => {
    const podYaml = (labels: Record<string, string>, annotations: Record<string, string>) => JSON.stringify({
      apiVersion: "v1", kind: "Pod",
      metadata: { generateName: "guard-", namespace: TEST_NAMESPACE, labels, annotations },
      spec: { containers: [{ name: "c", image: "registry.example/app:1", securityContext: restrictedSecurityContext() }] },
    });
    // A labelled pod must carry every requirement annotation (the guard refuses one that lacks any): the ones a case does not name say "no constraint".
    const none = { "residency.sovereignty.eu/allowed-countries": "", "residency.sovereignty.eu/allowed-jurisdictions": "", "residency.sovereignty.eu/required-certifications": "", "residency.sovereignty.eu/forbid-extraterritorial-exposure": "false" };
    const create = (labels: Record<string, string>, annotations: Record<string, string>) =>
      kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs.de!, args: ["create", "-f", "-"], input: podYaml(labels, "sovereignty.eu/workload-uid" in labels ? { ...none, ...annotations } : annotations) });
    const setFacts = (facts: Record<string, string> | undefined) => {
      const base = { bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs.de! };
      kubectl({ ...base, args: ["-n", "sovereign-system", "delete", "configmap", "sovereign-residency-facts", "--ignore-not-found"] });
      if (facts) kubectlOk({ ...base, args: ["-n", "sovereign-system", "create", "configmap", "sovereign-residency-facts", ...Object.entries(facts).map(([k, v]) => `--from-literal=${k}=${v}`)] });
    };
    const sovereign = { "sovereignty.eu/workload-uid": "copied-from-fr" };

    before(async () => {
      await members.de!.ensureNamespace(TEST_NAMESPACE, {});
      await members.de!.ensureNamespace("sovereign-system", {});
    });

    it("rejects a pod copied from a French-only workload on de, naming the requirement and de's country, and admits a compliant one", async () => {
      setFacts({ cluster: "de", country: "DE", jurisdiction: "EU", validCertifications: "C5", extraterritorialExposure: "" });
      // The binding reads the new ConfigMap through an informer: wait until the guard sees it.
      const compliant = await waitFor(() => {
        const r = create(sovereign, { "residency.sovereignty.eu/allowed-countries": "DE,FR", "residency.sovereignty.eu/required-certifications": "C5" });
        return r.status === 0 ? r : undefined;
      }, { what: "a compliant sovereign pod admitted", timeoutMs: 20_000, intervalMs: 500 });
      assert.match(compliant.stdout, /created/);
      const refused = create(sovereign, { "residency.sovereignty.eu/allowed-countries": "FR" });
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /residency guard: the pod allows countries \[FR\] but member de is in country DE/);
      const uncertified = create(sovereign, { "residency.sovereignty.eu/required-certifications": "C5,HDS" });
      assert.match(uncertified.stderr, /requires certifications \[C5,HDS\] but member de holds no valid \[HDS\]/);
      const annotatedOnly = create({}, { "residency.sovereignty.eu/allowed-countries": "FR" });
      assert.match(annotatedOnly.stderr, /must carry the label sovereignty.eu\/workload-uid/);
    });

    it("denies every sovereign pod while the member's facts are missing, and still admits a plain pod", async () => {
      setFacts(undefined);
      const refused = await waitFor(() => {
        const r = create(sovereign, { "residency.sovereignty.eu/allowed-countries": "DE" });
        return r.status !== 0 ? r : undefined;
      }, { what: "a sovereign pod refused without facts", timeoutMs: 20_000, intervalMs: 500 });
      assert.match(refused.stderr, /no params found for policy binding with `Deny` parameterNotFoundAction/);
      const plain = create({ app: "plain" }, {});
      assert.equal(plain.status, 0, plain.stderr);
      // Positive control: with the facts back, the same sovereign pod is admitted.
      setFacts({ cluster: "de", country: "DE", jurisdiction: "EU", validCertifications: "", extraterritorialExposure: "" });
      await waitFor(() => create(sovereign, { "residency.sovereignty.eu/allowed-countries": "DE" }).status === 0, { what: "the same pod admitted with facts", timeoutMs: 20_000, intervalMs: 500 });
    });
  });

  it("lets a member read its own intents stream by direct get, and never another member's", async () => {
    const w = uid();
    await cp.publish.intent(intentFor({ cluster: "fr", uid: w, name: `direct-${w.slice(0, 8)}`, replicas: 0 }));
    const fr = await connectAs(env, { member: "fr" });
    try {
      const own = await new NatsIntentSource({ client: fr, cluster: "fr", log: testLog }).latest();
      assert.ok(own.some((i) => i.workload?.uid === w), "fr reads its own newest intents");
      // The same batched request as latest() makes, aimed at de's stream: refused by the server.
      const subject = `$JS.API.DIRECT.GET.${streams.intents("de")}`;
      const err = await fr.nc.request(subject, JSON.stringify({ seq: 1, batch: 10 }), { timeout: 5_000 }).then(() => undefined, (e: unknown) => e);
      const violation = err instanceof PermissionViolationError ? err : (err as Error | undefined)?.cause;
      assert.ok(violation instanceof PermissionViolationError, `expected a permissions violation, got ${String(err)}`);
      assert.equal(violation.operation, "publish");
      assert.equal(violation.subject, subject);
      // And fr's resync code, pointed at de, gets nothing of de's intents.
      const other = await new NatsIntentSource({ client: fr, cluster: "de", log: testLog }).latest().then((x) => x, (e: unknown) => e);
      assert.ok(!Array.isArray(other) || other.length === 0, "fr read de's intents");
    } finally {
      await fr.drain();
    }
  });
});
