import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import { MEMBER_LABELS } from "../../operator/src/api/index.ts";
import { FederationGrpcClient } from "../../operator/src/federation/grpc/index.ts";
import { federationStateDir } from "../integration/env.ts";
import { freePort, recorded, replaceFlag } from "../support/processes.ts";
import { condition, workloadManifest, World } from "./support/world.ts";

/** Sum of a counter's samples in a Prometheus exposition (0 when absent). */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

/**
 * The control plane under faults: killed without warning in the middle of a burst of
 * applies, and run twice at once. Level-based reconciles from the caches, idempotent
 * intents and one leader must leave exactly the pods asked for, no more, no fewer.
 */
describe("the control plane under faults, end to end", function () {
  this.timeout(360_000);
  const ns = "e2e-control-plane";
  let world: World;
  let second: ChildProcess | undefined;

  before(async function () {
    world = await World.ready({ namespace: ns });
  });

  afterEach(async function () {
    await world.auditor.check(this.currentTest?.title ?? "step");
  });

  after(async function () {
    second?.kill("SIGKILL");
    const startControlPlane = () => {
      try {
        world.component("start", "control-plane");
      } catch {
        // already running
      }
    };
    await world?.finish({ namespace: ns, cleanup: [startControlPlane], deleteTimeout: "120s" });
  });

  it("killed with SIGKILL in the middle of a burst of applies and restarted: no duplicate and no lost pod", async function () {
    const n = 24;
    const names = Array.from({ length: n }, (_, i) => `burst-${i}`);
    const { pid } = recorded("control-plane");
    for (let i = 0; i < n; i++) {
      world.apply([workloadManifest({ namespace: ns, name: names[i]!, replicas: 2, policy: "personal-data-eu" })]);
      if (i === 7) process.kill(pid, "SIGKILL");
    }
    world.component("start", "control-plane");
    const workloads = await world.until(`all ${n} burst workloads Ready`, async () => {
      const ws = await Promise.all(names.map((name) => world.workload(ns, name)));
      return ws.every((w) => w?.status?.readyReplicas === 2 && w.status.observedGeneration === w.metadata.generation) ? ws : false;
    }, 180_000);
    const apps = new Map([...world.members.keys()].map((m) => {
      const kc = new KubeConfig();
      kc.loadFromFile(world.env.memberKubeconfigs[m]!);
      return [m, kc.makeApiClient(AppsV1Api)] as const;
    }));
    for (const w of workloads) {
      const uid = w!.metadata.uid!;
      // Exactly the placements: one Deployment per placed cluster, replicas as placed, and the pods to match.
      const placed = Object.fromEntries(w!.status!.placements!.filter((p) => p.replicas > 0).map((p) => [p.cluster, p.replicas]));
      const pods = await world.untilPods(uid, placed);
      assert.equal(pods.length, 2, `${w!.metadata.name}: ${JSON.stringify(placed)}`);
      for (const [member, api] of apps) {
        const deployments = await api.listNamespacedDeployment({ namespace: ns, labelSelector: `${MEMBER_LABELS.workloadUid}=${uid}` });
        assert.equal(deployments.items.length, placed[member] ? 1 : 0, `${w!.metadata.name} on ${member}`);
      }
    }
  });

  it("two control planes at once: only the leader reconciles; the other takes over when the leader dies", async function () {
    const leader = recorded("control-plane");
    const metricsPort = await freePort();
    let args = replaceFlag(leader.args, "--metrics-listen", `127.0.0.1:${metricsPort}`);
    args = replaceFlag(args, "--grpc-listen", `127.0.0.1:${await freePort()}`);
    // The query API's port too, when the recorded one serves it: a second process cannot bind the first's.
    if (args.some((a) => a === "--query-listen" || a.startsWith("--query-listen="))) args = replaceFlag(args, "--query-listen", `127.0.0.1:${await freePort()}`);
    const log = path.join(federationStateDir(), "logs", "control-plane-second.log");
    const fd = openSync(log, "a");
    second = spawn(leader.binary, args, { stdio: ["ignore", fd, fd], cwd: world.env.root });
    const secondMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    await world.until("the second control plane to be ready (caches synced)", async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, 60_000);
    const leaderMetrics = world.env.vars.CONTROL_PLANE_METRICS_URL!;
    const reconciles = async (url: string) => counterSum(await (await fetch(url)).text(), "controller_runtime_reconcile_total");
    const before = { leader: await reconciles(leaderMetrics), second: await reconciles(secondMetrics) };
    world.apply([workloadManifest({ namespace: ns, name: "while-two", replicas: 1, policy: "public" })]);
    await world.untilStatus(ns, "while-two", "Ready", (w) => w.status?.readyReplicas === 1);
    // Positive control: the leader did reconcile it; the follower did nothing at all.
    assert.ok((await reconciles(leaderMetrics)) > before.leader, "the leader reconciled");
    assert.equal(await reconciles(secondMetrics), before.second, "the follower must not reconcile");
    assert.equal(before.second, 0, "the follower must not have reconciled anything since it started");

    process.kill(leader.pid, "SIGKILL");
    world.apply([workloadManifest({ namespace: ns, name: "after-takeover", replicas: 1, policy: "public" })]);
    const w = await world.untilStatus(ns, "after-takeover", "Ready under the new leader", (w) => w.status?.readyReplicas === 1, 90_000);
    assert.equal(condition(w, "Scheduled")?.status, "True");
    assert.ok((await reconciles(secondMetrics)) > 0, "the second control plane took over and reconciled");
    second.kill("SIGTERM");
    await new Promise((r) => second!.once("exit", r));
    second = undefined;
    world.component("start", "control-plane");
    world.apply([workloadManifest({ namespace: ns, name: "back-to-one", replicas: 1, policy: "public" })]);
    await world.untilStatus(ns, "back-to-one", "Ready under the restarted component", (w) => w.status?.readyReplicas === 1, 90_000);
  });

  it("a certification that stops being valid moves the replicas off that member at once, and the audit trail says so", async function () {
    // ovh-rbx-hds holds HDS; the admin learns it lapsed and records its real last day (yesterday).
    world.apply([workloadManifest({ namespace: ns, name: "records", replicas: 4, policy: "health-fr-hds" })]);
    const placed = await world.untilStatus(ns, "records", "Ready on both French HDS members", (w) => w.status?.readyReplicas === 4 && w.status?.placements?.length === 2);
    assert.deepEqual(placed.status?.placements?.map((p) => p.cluster).sort(), ["ovh-par-1", "ovh-rbx-hds"]);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const original = await world.memberCluster("ovh-rbx-hds");
    const certs = (original.spec.residency.certifications ?? []).map((c) => (c.name === "HDS" ? { ...c, validUntil: yesterday } : c));
    try {
      world.kubectl(["patch", "mc", "ovh-rbx-hds", "--type=merge", "-p", JSON.stringify({ spec: { residency: { certifications: certs } } })]);
      const w = await world.untilStatus(ns, "records", "all 4 replicas on ovh-par-1", (w) =>
        w.status?.placements?.filter((p) => p.replicas > 0).map((p) => p.cluster).join() === "ovh-par-1" && w.status?.readyReplicas === 4);
      await world.untilPods(w.metadata.uid!, { "ovh-par-1": 4 });
      const mc = await world.memberCluster("ovh-rbx-hds");
      assert.ok(!(mc.status?.validCertifications ?? []).includes("HDS"), JSON.stringify(mc.status?.validCertifications));
      // The auditor's evidence: an eviction from ovh-rbx-hds for this workload, with the facts it was decided on.
      const client = new FederationGrpcClient({
        address: world.env.vars.CONTROL_PLANE_GRPC_ADDRESS!,
        serverName: "localhost",
        tls: { caPem: readFileSync(world.env.vars.GRPC_CA!), certPem: readFileSync(world.env.vars.GRPC_CERT_ADMIN!), keyPem: readFileSync(world.env.vars.GRPC_KEY_ADMIN!) },
      });
      try {
        const records = await world.until("an audit record of the eviction from ovh-rbx-hds", async () => {
          const rs = [];
          for await (const r of client.queryAudit({ namespace: ns, name: "records", cluster: "ovh-rbx-hds", country: "", range: undefined, limit: 0 })) rs.push(r.record!);
          return rs.some((r) => r.replicas === 0 || r.action === 3) ? rs : false;
        });
        const placed = records.find((r) => r.action === 1);
        assert.ok(placed, "the first placement on ovh-rbx-hds is in the trail too");
        assert.equal(placed.country, "FR");
        assert.ok(placed.facts?.certifications.some((c) => c.name === "HDS"), "the facts the placement was decided on are recorded");
      } finally {
        client.close();
      }
    } finally {
      world.kubectl(["patch", "mc", "ovh-rbx-hds", "--type=merge", "-p", JSON.stringify({ spec: { residency: { certifications: original.spec.residency.certifications } } })]);
    }
  });
});
