import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { SovereignWorkload } from "../../../operator/src/api/index.ts";
import { codecs, STATUS_STREAM_LIMITS, streams, subjects } from "../../../operator/src/federation/index.ts";
import type { FederationClient, WorkloadStatus } from "../../../operator/src/federation/index.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { sampleHeartbeat } from "../../support/samples.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { connectAs, ensureMemberClusters, TEST_NAMESPACE } from "../federation/helpers.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { until } from "../../support/until.ts";

/**
 * A member that floods the host with forged workload statuses (issue 14, item 2), as the
 * `fr` NATS identity against the running federation: 10,000 statuses of made-up
 * workloads, statuses of a workload fr does not run, payloads naming another workload or
 * member than their subject. The control plane must keep its memory, every other
 * workload's status, and count what it refused by reason; fr's genuine report of the
 * workload it does run is still taken (the positive control).
 */

const LABEL = "reports-flood.test.sovereignty.eu/member";
const FLOOD = 10_000;
const FORGED = 100;

interface Metrics {
  rss: number;
  dropped: Record<string, number>;
}

async function scrape(env: FederationEnv): Promise<Metrics> {
  const text = await (await fetch(env.controlPlaneMetricsUrl)).text();
  const value = (line: string | undefined) => Number(line?.split(" ").at(-1) ?? "0");
  const dropped: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^sovereign_status_reports_dropped_total\{reason="(\w+)"\} (\S+)$/.exec(line);
    if (m) dropped[m[1]!] = Number(m[2]);
  }
  return { rss: value(text.split("\n").find((l) => l.startsWith("process_resident_memory_bytes "))), dropped };
}


describe("security: a member flooding the host with forged statuses", function () {
  this.timeout(600_000);
  let env: FederationEnv;
  let fr: FederationClient;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  let heartbeats: NodeJS.Timeout | undefined;
  let victimCluster = "";
  const k = (args: string[], input?: string) => kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args, ...(input ? { input } : {}) });
  const get = (name: string) => JSON.parse(k(["get", "sovereignworkload", "-n", TEST_NAMESPACE, name, "-o", "json"])) as SovereignWorkload;
  const names = { flood: `flood-fr-${process.pid}`, victim: `flood-victim-${process.pid}` };

  function workload(name: string, member: string): string {
    return JSON.stringify({
      apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name, namespace: TEST_NAMESPACE },
      spec: {
        replicas: 1, placement: { mode: "Divided" }, failover: { enabled: false },
        residency: { clusterSelector: { matchLabels: { [LABEL]: member } } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example.eu/app:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    });
  }

  before(async () => {
    env = readFederationEnv();
    ensureMemberClusters(env);
    fr = await connectAs(env, { member: "fr" });
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    // fr has no agent: the test is its agent, heartbeats included, so that fr is Ready and gets placements.
    let sequence = 0;
    const beat = () => void fr.publish.heartbeat(sampleHeartbeat({ cluster: "fr", sentAt: new Date(), sequence: ++sequence })).catch(() => undefined);
    beat();
    heartbeats = setInterval(beat, 1000);
    // The victim runs on a member with a real agent (not fr, not the bare de), whose MemberCluster is an example one.
    k(["apply", "--server-side", "--force-conflicts", "--field-manager=e2e", "-f", path.join(repoRoot, "crds/examples/10-member-clusters.yaml")]);
    victimCluster = await until("a Ready member with an agent", 90_000, () => {
      const list = JSON.parse(k(["get", "memberclusters", "-o", "json"])) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
      return list.items.find((c) => env.agents.includes(c.metadata.name) && c.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True"))?.metadata.name;
    });
    k(["label", "membercluster", "fr", `${LABEL}=fr`, "--overwrite"]);
    k(["label", "membercluster", victimCluster, `${LABEL}=victim`, "--overwrite"]);
    k(["apply", "--server-side", "--field-manager=reports-flood-test", "-f", "-"], workload(names.flood, "fr"));
    k(["apply", "--server-side", "--field-manager=reports-flood-test", "-f", "-"], workload(names.victim, "victim"));
  });

  after(async () => {
    if (!env) return;
    for (const name of Object.values(names)) kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["delete", "sovereignworkload", "-n", TEST_NAMESPACE, name, "--wait=false", "--ignore-not-found"] });
    // fr says it removed its workload, so the finalizer can go while fr is still Ready.
    const w = (() => {
      try {
        return get(names.flood);
      } catch {
        return undefined;
      }
    })();
    if (w?.metadata.uid) {
      await fr.publish.status({
        cluster: "fr", workload: { namespace: TEST_NAMESPACE, name: names.flood, uid: w.metadata.uid }, observedGeneration: w.metadata.generation ?? 1,
        desiredReplicas: 0, readyReplicas: 0, podPhases: {}, reportedAt: new Date(), message: "",
      }).catch(() => undefined);
      await until("the flood workload gone", 60_000, () => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["get", "sovereignworkload", "-n", TEST_NAMESPACE, names.flood] }).status !== 0 || undefined).catch(() => undefined);
    }
    clearInterval(heartbeats);
    for (const c of ["fr", victimCluster].filter(Boolean)) kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["label", "membercluster", c, `${LABEL}-`] });
    // What the flood left in fr's stream would be replayed at the control plane's next start.
    await jsm?.streams.purge(streams.status("fr")).catch(() => undefined);
    await Promise.allSettled([fr?.drain(), cp?.drain()]);
  });

  it("keeps the control plane's memory and every other workload's status, counts the refusals by reason, and still takes fr's genuine report", async () => {
    const flood = await until("the flood workload placed on fr", 90_000, () => {
      const w = get(names.flood);
      return w.status?.placements?.some((p) => p.cluster === "fr") ? w : undefined;
    });
    const victim = await until(`the victim Ready on ${victimCluster}`, 120_000, () => {
      const w = get(names.victim);
      return w.status?.readyReplicas === 1 && w.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? w : undefined;
    });
    const floodUid = flood.metadata.uid!;
    const victimUid = victim.metadata.uid!;
    const victimRef = { namespace: TEST_NAMESPACE, name: names.victim, uid: victimUid };
    const report = (over: Partial<WorkloadStatus>): WorkloadStatus => ({
      cluster: "fr", workload: victimRef, observedGeneration: 1, desiredReplicas: 1, readyReplicas: 0, podPhases: {}, reportedAt: new Date(), message: "", ...over,
    });

    // Every forged status, published as fr; raw publishes where the payload must differ from the subject.
    const raw = (subject: string, status: WorkloadStatus) => fr.js.publish(subject, codecs.status.encode(status), { timeout: 30_000 });
    const publishAll = async (jobs: readonly (() => Promise<unknown>)[]) => {
      let next = 0;
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }));
    };
    const madeUp = () => () => fr.publish.status(report({ workload: { namespace: "x", name: "x", uid: randomUUID() }, desiredReplicas: 100, readyReplicas: 100 }));

    // A first flood of the same size warms the process up: a fresh Node process's heap (V8's
    // young generation grows under a burst of allocations and keeps its size) is not what
    // this test is about. The claim is that a flood leaves nothing behind: measured from a
    // process that already took one, a second (and larger) flood must not grow it.
    const cold = await scrape(env);
    assert.ok(cold.rss > 0, "the control plane exports process_resident_memory_bytes");
    await publishAll(Array.from({ length: FLOOD }, madeUp));
    const before = await until("the warm-up flood counted", 180_000, async () => {
      const m = await scrape(env);
      return (m.dropped.UnknownWorkload ?? 0) - (cold.dropped.UnknownWorkload ?? 0) >= FLOOD ? m : undefined;
    });
    let peak = before.rss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await scrape(env)).rss);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const jobs: (() => Promise<unknown>)[] = [
      ...Array.from({ length: FLOOD }, madeUp),
      // A workload fr does not run: "not ready" from fr must not reach the victim's status.
      // One subject: the stream keeps only its newest, so the consumer may see fewer than sent.
      ...Array.from({ length: FORGED }, (_, i) => () => fr.publish.status(report({ reportedAt: new Date(Date.now() + i) }))),
      // On fr's own workload's subject, then on made-up ones, a payload speaking for the victim.
      () => raw(subjects.status("fr", floodUid), report({})),
      ...Array.from({ length: FORGED - 1 }, () => () => raw(subjects.status("fr", randomUUID()), report({}))),
      // On fr's subjects, a payload claiming to come from the victim's member.
      ...Array.from({ length: FORGED }, () => () => raw(subjects.status("fr", randomUUID()), report({ cluster: victimCluster }))),
    ];
    const started = Date.now();
    await publishAll(jobs);
    const publishSeconds = (Date.now() - started) / 1000;

    const after = await until("every forged status counted as refused", 180_000, async () => {
      const m = await scrape(env);
      const delta = (r: string) => (m.dropped[r] ?? 0) - (before.dropped[r] ?? 0);
      return delta("UnknownWorkload") >= FLOOD && delta("NotPlacedOnMember") >= 1 && delta("UidMismatch") >= FORGED && delta("ClusterMismatch") >= FORGED ? m : undefined;
    });
    sampling = false;
    await sampler;
    const growth = (peak - before.rss) / before.rss;
    console.log(`      flood: ${jobs.length} statuses published in ${publishSeconds.toFixed(1)} s; control plane RSS ${(cold.rss / 2 ** 20).toFixed(0)} MiB cold, ${(before.rss / 2 ** 20).toFixed(0)} MiB after the warm-up flood, ${(peak / 2 ** 20).toFixed(0)} MiB peak (${(growth * 100).toFixed(1)} %), ${(after.rss / 2 ** 20).toFixed(0)} MiB after; dropped ${JSON.stringify(Object.fromEntries(Object.entries(after.dropped).map(([r, n]) => [r, n - (before.dropped[r] ?? 0)])))}`);
    assert.ok(growth <= 0.1, `RSS grew ${(growth * 100).toFixed(1)} % (${before.rss} -> ${peak})`);

    // The victim's status is what its own member said, untouched by fr.
    const victimAfter = get(names.victim);
    assert.equal(victimAfter.status?.readyReplicas, 1);
    assert.deepEqual(victimAfter.status?.placements?.map((p) => p.cluster), [victimCluster]);
    assert.ok(victimAfter.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    // Its member's stream is its own: fr's flood evicted nothing there.
    const own = await jsm.direct.getMessage(streams.status(victimCluster), { last_by_subj: subjects.status(victimCluster, victimUid) });
    assert.equal(codecs.status.decode(own!.data, own!.subject).readyReplicas, 1);
    const frStream = await jsm.streams.info(streams.status("fr"));
    assert.ok(frStream.state.messages <= STATUS_STREAM_LIMITS.maxMsgs);
    assert.ok(frStream.state.messages >= FLOOD, "the flood did reach fr's stream");

    // Positive control: fr's genuine report of the workload it runs is taken.
    await fr.publish.status(report({ workload: { namespace: TEST_NAMESPACE, name: names.flood, uid: floodUid }, observedGeneration: flood.metadata.generation ?? 1, readyReplicas: 1, podPhases: { Running: 1 } }));
    await until("fr's genuine report in the flood workload's status", 60_000, () => {
      const w = get(names.flood);
      return w.status?.readyReplicas === 1 ? w : undefined;
    });
  });
});
