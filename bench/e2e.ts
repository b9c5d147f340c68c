// `npm run bench -- e2e`: the whole system on the running local federation (`npm run
// demo` or `hack/federation up` leaves it so). In order:
//   1. the direct baseline: WORKLOADS Deployments created directly on the member API
//      servers at RATE_PER_S, create → pod Running; then deleted, and waited for until gone;
//   2. the same number of SovereignWorkloads applied on the host at the same rate,
//      apply → pod Running, with the control plane's scheduling reconciles counted;
//   3. one workload on an idle federation, federated and direct, a few rounds each;
//   4. drift: a placed Deployment deleted, scaled and edited on its member, → restored;
//   5. failover time with the default heartbeat settings;
//   6. BULK workloads applied at once, direct and federated, until all Running; the
//      control plane's RSS and heap and each agent's RSS holding them.
// Both sides go through the same members' kube-controller-manager, run with raised
// client QPS (hack/lib/federation/kube.ts), so the baseline is the members' own speed.
// The last line is one JSON object with every figure. Bring the federation up with
// SOV_ATTESTATION_INTERVAL=5m, the agents' production default: the local federation's 10 s
// would make 1,000 workloads append 100 signed ledger records a second.
import { availableParallelism } from "node:os";
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { MEMBER_LABELS } from "../operator/src/api/index.ts";
import { namespaceManifest, workloadManifest, World } from "../test/e2e/support/world.ts";
import {
  driftLine, type DriftKind, type DriftResult, gauge, latencySummary, median, overheadRows, overheadTable, PERCENTILES, percentileLabel, ratio,
  reconcileCounter, type Timed, verdict,
} from "./lib/e2e-report.ts";
import { formatRatio } from "./lib/stats.ts";

const WORKLOADS = Number(process.env.BENCH_E2E_WORKLOADS ?? 200);
const RATE_PER_S = 20;
const SINGLE_ROUNDS = Number(process.env.BENCH_E2E_SINGLE_ROUNDS ?? 3);
const FAILOVER_ROUNDS = Number(process.env.BENCH_E2E_FAILOVER_ROUNDS ?? 3);
const BULK = Number(process.env.BENCH_E2E_MEMORY_WORKLOADS ?? 1000);
const DRIFT_TIMEOUT_MS = Number(process.env.BENCH_E2E_DRIFT_TIMEOUT_S ?? 30) * 1000;
/** The figures issue 13 sets for this bench on a 2-core machine. */
const TARGETS = {
  overheadMs: 1000, throughputRatio: 0.9, singleOverheadMs: 500, reconcilesPerWorkload: 2, bulkRatio: 0.9,
  controlPlaneRssMB: 200, agentRssMB: 120, driftMs: 5000, failoverP99Ms: 25_000,
};
const GROUP = "sovereignty.eu";
const VERSION = "v1alpha1";
const IMAGE = "registry.example.eu/e2e:1.0";
/** What the restricted Pod Security Standard asks of a container (namespaces the agent creates enforce it). */
const RESTRICTED = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };

const say = (line: string) => console.log(`[bench e2e] ${line}`);
const fmt = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "n/a");
const MB = 1024 * 1024;

interface Members {
  /** The members the baseline and the federated runs use: the unexposed ones personal-data-eu allows. */
  names: string[];
  apps: Map<string, AppsV1Api>;
  core: Map<string, CoreV1Api>;
}

function membersOf(world: World): Members {
  const names = [...world.members.keys()].filter((m) => m !== "aws-fra-1");
  const apps = new Map<string, AppsV1Api>();
  const core = new Map<string, CoreV1Api>();
  for (const m of world.members.keys()) {
    const kc = new KubeConfig();
    kc.loadFromFile(world.env.memberKubeconfigs[m]!);
    apps.set(m, kc.makeApiClient(AppsV1Api));
    core.set(m, kc.makeApiClient(CoreV1Api));
  }
  return { names, apps, core };
}

/** Waits for `check`, saying every 10 s how far it is (what `progress` returns). */
async function waitWithProgress<T>(p: { world: World; what: string; timeoutMs: number; check: () => Promise<T | false>; progress: () => string }): Promise<T> {
  let last = performance.now();
  return p.world.until(p.what, async () => {
    const v = await p.check();
    if (v === false && performance.now() - last > 10_000) {
      say(`  ${p.what}: ${p.progress()}`);
      last = performance.now();
    }
    return v;
  }, p.timeoutMs);
}

/** Starts `n` items at RATE_PER_S and resolves with each one's latency to done, and the wall time to the last. */
async function paced(p: { n: number; start: (i: number) => Promise<void>; done: () => Promise<Set<number>>; what: string; timeoutMs: number }): Promise<Timed> {
  const started = new Map<number, number>();
  const finished = new Map<number, number>();
  const t0 = performance.now();
  let next = 0;
  let lastReport = t0;
  while (finished.size < p.n) {
    const now = performance.now();
    while (next < p.n && next <= ((now - t0) / 1000) * RATE_PER_S) {
      started.set(next, performance.now());
      await p.start(next);
      next++;
    }
    for (const i of await p.done()) if (started.has(i) && !finished.has(i)) finished.set(i, performance.now());
    if (performance.now() - lastReport > 5000) {
      say(`  ${p.what}: ${started.size}/${p.n} started, ${finished.size} Running`);
      lastReport = performance.now();
    }
    if (performance.now() - t0 > p.timeoutMs) throw new Error(`${p.what}: only ${finished.size}/${p.n} Running after ${p.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const last = Math.max(...finished.values());
  return latencySummary([...finished].map(([i, t]) => t - started.get(i)!), last - t0);
}

function deploymentBody(name: string, labels: Record<string, string>, replicas = 1): object {
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: IMAGE, resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: RESTRICTED }] } },
    },
  };
}

/** Indices (from `pattern` on the pod's app label or name) of the Running pods selected by `labelSelector` in `ns` on `members`. */
async function runningIndices(p: { members: Members; names: string[]; ns: string; labelSelector: string; index: (pod: { name: string; app: string }) => number | undefined; into: Set<number> }): Promise<Set<number>> {
  for (const m of p.names) {
    const pods = await p.members.core.get(m)!.listNamespacedPod({ namespace: p.ns, labelSelector: p.labelSelector });
    for (const pod of pods.items) {
      if (pod.status?.phase !== "Running" || pod.metadata?.deletionTimestamp) continue;
      const i = p.index({ name: pod.metadata?.name ?? "", app: pod.metadata?.labels?.app ?? "" });
      if (i !== undefined) p.into.add(i);
    }
  }
  return p.into;
}

async function createMemberNamespaces(members: Members, ns: string, names = members.names): Promise<void> {
  for (const m of names) await members.core.get(m)!.createNamespace({ body: { metadata: { name: ns } } });
}

/** Deletes `ns` on the members and waits until it is gone on each: nothing of a run is left to compete with the next. */
async function removeMemberNamespaces(world: World, members: Members, ns: string, names = members.names): Promise<void> {
  for (const m of names) await members.core.get(m)!.deleteNamespace({ name: ns }).catch(() => undefined);
  const left = async () => {
    const out: string[] = [];
    for (const m of names) {
      try {
        await members.core.get(m)!.readNamespace({ name: ns });
        out.push(m);
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    }
    return out;
  };
  let still: string[] = [];
  await waitWithProgress({
    world, what: `namespace ${ns} gone on ${names.join(", ")}`, timeoutMs: 600_000,
    check: async () => ((still = await left()).length === 0 ? true : false),
    progress: () => `still on ${still.join(", ")}`,
  });
}

async function direct(world: World, members: Members, ns: string, n: number): Promise<Timed> {
  await createMemberNamespaces(members, ns);
  const running = new Set<number>();
  const labelsOf = (i: number) => ({ app: `d-${i}`, bench: "direct" });
  const r = await paced({
    n, what: "direct", timeoutMs: 600_000,
    start: async (i) => {
      await members.apps.get(members.names[i % members.names.length]!)!.createNamespacedDeployment({ namespace: ns, body: deploymentBody(`d-${i}`, labelsOf(i)) });
    },
    done: () => runningIndices({ members, names: members.names, ns, labelSelector: "bench=direct", index: (p) => numbered(/^d-(\d+)$/, p.app), into: running }),
  });
  say(`baseline done; deleting it and waiting until it is gone on every member`);
  await removeMemberNamespaces(world, members, ns);
  return r;
}

function numbered(re: RegExp, s: string): number | undefined {
  const m = re.exec(s);
  return m ? Number(m[1]) : undefined;
}

async function controlPlaneMetrics(world: World): Promise<string> {
  const url = world.env.controlPlaneMetricsUrl;
  if (!url) throw new Error(".federation/env has no CONTROL_PLANE_METRICS_URL: is the control plane a component of the federation?");
  return (await fetch(url)).text();
}

/** Where the federated phase's time may go on a 2-core machine: the CPU the federation's own processes took from the members'. */
interface FederationCpu {
  controlPlaneS?: number;
  agentsS?: number;
  wallS: number;
}

async function federated(world: World, members: Members, ns: string, n: number): Promise<{ timed: Timed; reconciles?: { counts: string; perWorkload: number }; cpu: FederationCpu }> {
  world.apply([namespaceManifest(ns)]);
  const before = reconcileCounter(await controlPlaneMetrics(world));
  const cpu0 = await federationCpu(world);
  const w0 = performance.now();
  const running = new Set<number>();
  const timed = await paced({
    n, what: "federated", timeoutMs: 600_000,
    // Through the API (as kubectl would, without a process per object): the pace is the bench's, not fork's.
    start: async (i) => {
      await world.host.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads", body: workloadManifest({ namespace: ns, name: `w-${i}`, replicas: 1, policy: "personal-data-eu" }) });
    },
    // Pods are named after their Deployment, which is named after the workload.
    done: () => runningIndices({ members, names: members.names, ns, labelSelector: MEMBER_LABELS.workloadUid, index: (p) => numbered(/^w-(\d+)-/, p.name), into: running }),
  });
  const after = reconcileCounter(await controlPlaneMetrics(world));
  const cpu1 = await federationCpu(world);
  const delta = (a?: number, b?: number) => (a !== undefined && b !== undefined ? { value: b - a } : undefined);
  const cp = delta(cpu0.controlPlaneS, cpu1.controlPlaneS);
  const ag = delta(cpu0.agentsS, cpu1.agentsS);
  const cpu: FederationCpu = { wallS: (performance.now() - w0) / 1000, ...(cp ? { controlPlaneS: cp.value } : {}), ...(ag ? { agentsS: ag.value } : {}) };
  const reconciles = before && after && before.name === after.name ? { counts: after.counts, perWorkload: (after.value - before.value) / n } : undefined;
  return { timed, cpu, ...(reconciles ? { reconciles } : {}) };
}

async function deleteWorkloads(world: World, members: Members, ns: string): Promise<void> {
  say(`deleting the workloads of ${ns} (each leaves every member first, through its finalizer)`);
  // One deletecollection request: kubectl deletes 1,000 objects one request at a time.
  await world.host.deleteCollectionNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads" });
  let left = 0;
  await waitWithProgress({
    world, what: `the workloads of ${ns} gone`, timeoutMs: 900_000,
    check: async () => {
      const list = (await world.host.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads" })) as { items: unknown[] };
      left = list.items.length;
      return left === 0 ? true : false;
    },
    progress: () => `${left} left`,
  });
  world.kubectl(["delete", "namespace", ns, "--wait=false"]);
  // The agents leave the namespaces they created on the members; the bench does not, so the next run starts clean.
  await removeMemberNamespaces(world, members, ns, [...members.core.keys()]);
}

/** Time to the first pod Running, polled tightly (one object: the polling is the resolution). */
async function timeToRunning(p: { members: Members; names: string[]; ns: string; labelSelector: string; timeoutMs: number }): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < p.timeoutMs) {
    for (const m of p.names) {
      const pods = await p.members.core.get(m)!.listNamespacedPod({ namespace: p.ns, labelSelector: p.labelSelector });
      if (pods.items.some((x) => x.status?.phase === "Running" && !x.metadata?.deletionTimestamp)) return performance.now() - t0;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no pod Running for ${p.labelSelector} in ${p.ns} after ${p.timeoutMs} ms`);
}

async function single(world: World, members: Members, ns: string): Promise<{ federatedMs: number; directMs: number; federatedSamples: number[]; directSamples: number[] }> {
  world.apply([namespaceManifest(ns)]);
  const target = members.names[0]!;
  await createMemberNamespaces(members, `${ns}-direct`, [target]);
  const fed: number[] = [];
  const dir: number[] = [];
  for (let round = 0; round < SINGLE_ROUNDS; round++) {
    const t0 = performance.now();
    const created = (await world.host.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads", body: workloadManifest({ namespace: ns, name: `s-${round}`, replicas: 1, policy: "personal-data-eu", placement: { maxClusters: 1 } }) })) as { metadata: { uid: string } };
    await timeToRunning({ members, names: members.names, ns, labelSelector: `${MEMBER_LABELS.workloadUid}=${created.metadata.uid}`, timeoutMs: 120_000 });
    fed.push(performance.now() - t0);
    const t1 = performance.now();
    await members.apps.get(target)!.createNamespacedDeployment({ namespace: `${ns}-direct`, body: deploymentBody(`d-${round}`, { app: `d-${round}`, bench: "single" }) });
    await timeToRunning({ members, names: [target], ns: `${ns}-direct`, labelSelector: `app=d-${round}`, timeoutMs: 120_000 });
    dir.push(performance.now() - t1);
    say(`  single round ${round + 1}/${SINGLE_ROUNDS}: federated ${fmt(fed.at(-1)!)}, direct ${fmt(dir.at(-1)!)}`);
  }
  await removeMemberNamespaces(world, members, `${ns}-direct`, [target]);
  return { federatedMs: median(fed), directMs: median(dir), federatedSamples: fed, directSamples: dir };
}

/**
 * One placed Deployment changed on its member the way an admin's mistake would, and the
 * time until it is as its intent says again; "not restored" after DRIFT_TIMEOUT_MS rather
 * than hang, whether or not this build's agent repairs drift.
 */
async function drift(world: World, members: Members, ns: string): Promise<DriftResult[]> {
  const name = "drift";
  world.apply([workloadManifest({ namespace: ns, name, replicas: 2, policy: "personal-data-eu", placement: { maxClusters: 1 } })]);
  const w = await world.untilStatus(ns, name, "Ready with 2", (x) => x.status?.readyReplicas === 2, 120_000);
  const member = w.status!.placements!.find((p) => p.replicas > 0)!.cluster;
  const apps = members.apps.get(member)!;
  const selector = `${MEMBER_LABELS.workloadUid}=${w.metadata.uid}`;
  const current = async () => (await apps.listNamespacedDeployment({ namespace: ns, labelSelector: selector })).items.find((d) => !d.metadata?.deletionTimestamp);
  const original = await current();
  if (!original) return (["deleted", "scaled", "edited"] as const).map((kind) => ({ kind, timeoutMs: DRIFT_TIMEOUT_MS, error: `no Deployment of ${ns}/${name} on ${member}` }));
  const deployment = original.metadata!.name!;
  const restoredWhen = async (kind: DriftKind, change: () => Promise<unknown>, restored: (d: Awaited<ReturnType<typeof current>>) => boolean): Promise<DriftResult> => {
    // Back to the intent first, or a miss of the previous kind would count against this one.
    if (!restored(await current()) && kind !== "deleted") return { kind, timeoutMs: DRIFT_TIMEOUT_MS, error: "the Deployment was not as its intent says before the change" };
    const t0 = performance.now();
    await change();
    try {
      await waitWithProgress({
        world, what: `${member}: ${kind} Deployment ${ns}/${deployment} restored`, timeoutMs: DRIFT_TIMEOUT_MS,
        check: async () => (restored(await current()) ? true : false),
        progress: () => `${((performance.now() - t0) / 1000).toFixed(0)} s, not yet`,
      });
      const r = { kind, timeoutMs: DRIFT_TIMEOUT_MS, restoredMs: performance.now() - t0 };
      say(`  ${driftLine(r, TARGETS.driftMs)}`);
      return r;
    } catch {
      const r = { kind, timeoutMs: DRIFT_TIMEOUT_MS };
      say(`  ${driftLine(r, TARGETS.driftMs)}`);
      return r;
    }
  };
  const image = (d: Awaited<ReturnType<typeof current>>) => d?.spec?.template?.spec?.containers?.[0]?.image;
  // Each check reads only the field its change touched, so a kind the agent does not
  // repair leaves the next one measurable; the deletion goes last, since nothing follows a Deployment that stays gone.
  const results: DriftResult[] = [];
  results.push(await restoredWhen("scaled",
    () => apps.patchNamespacedDeploymentScale({ namespace: ns, name: deployment, body: { spec: { replicas: 7 } } }, mergePatch()),
    (d) => d?.spec?.replicas === original.spec?.replicas));
  results.push(await restoredWhen("edited",
    () => apps.patchNamespacedDeployment({ namespace: ns, name: deployment, body: { spec: { template: { spec: { containers: [{ name: original.spec?.template.spec?.containers[0]?.name ?? "app", image: "registry.example.eu/drifted:0.0" }] } } } } }, mergePatch()),
    (d) => image(d) === image(original)));
  results.push(await restoredWhen("deleted",
    () => apps.deleteNamespacedDeployment({ namespace: ns, name: deployment }),
    (d) => d !== undefined && d.metadata?.uid !== original.metadata?.uid && d.spec?.replicas === original.spec?.replicas));
  return results;
}

/** client-node sends a JSON patch unless told otherwise; the bench's changes are merge patches. */
function mergePatch() {
  return setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
}

async function failover(world: World, ns: string, rounds: number): Promise<Timed> {
  world.apply([namespaceManifest(ns)]);
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let round = 0; round < rounds; round++) {
    const name = `f-${round}`;
    // EU and unexposed, on one member at a time: whichever member holds it is stopped, and
    // the replacement goes to another compliant member.
    world.apply([workloadManifest({ namespace: ns, name, replicas: 1, residency: { allowedJurisdictions: ["EU"], forbidExtraterritorialExposure: true, crossBorderFailover: true }, placement: { maxClusters: 1 }, failover: { tolerationSeconds: 0 } })]);
    const w = await world.untilStatus(ns, name, "Ready", (x) => x.status?.readyReplicas === 1, 120_000);
    const member = w.status!.placements![0]!.cluster;
    const stoppedAt = performance.now();
    world.component("stop", `agent-${member}`);
    try {
      await world.until(`replacement of ${name} Running off ${member}`, async () =>
        (await world.podsOf(w.metadata.uid!)).some((p) => p.member !== member && p.phase === "Running"), 120_000);
      latencies.push(performance.now() - stoppedAt);
      say(`  failover round ${round + 1}/${rounds}: ${fmt(latencies.at(-1)!)} (agent-${member} stopped → replacement Running)`);
    } finally {
      world.component("start", `agent-${member}`);
    }
    await world.untilMemberReady(member, true, 90_000);
  }
  return latencySummary(latencies, performance.now() - t0);
}

async function rssOf(url: string | undefined): Promise<{ rssMB?: number; heapMB?: number }> {
  if (!url) return {};
  const text = await (await fetch(url)).text();
  const rss = gauge(text, "process_resident_memory_bytes");
  const heap = gauge(text, "nodejs_heap_size_used_bytes");
  return { ...(rss !== undefined ? { rssMB: rss / MB } : {}), ...(heap !== undefined ? { heapMB: heap / MB } : {}) };
}

/** CPU seconds the federation's own processes (control plane, agents) have used, from their /metrics. */
async function federationCpu(world: World): Promise<{ controlPlaneS?: number; agentsS?: number }> {
  const cpu = async (url: string | undefined) => (url ? gauge(await (await fetch(url)).text(), "process_cpu_seconds_total") : undefined);
  const cp = await cpu(world.env.controlPlaneMetricsUrl);
  const agents = await Promise.all(world.env.agents.map((m) => cpu(world.env.agentMetricsUrls[m])));
  const known = agents.filter((x): x is number => x !== undefined);
  return { ...(cp !== undefined ? { controlPlaneS: cp } : {}), ...(known.length ? { agentsS: known.reduce((a, b) => a + b, 0) } : {}) };
}

interface Bulk {
  directMs: number;
  federatedMs: number;
  controlPlane: { rssMB?: number; heapMB?: number; idleRssMB?: number; idleHeapMB?: number };
  /** Per agent member: RSS with the Deployments it held at that moment. */
  agents: { member: string; deployments: number; rssMB?: number; idleRssMB?: number }[];
}

/** Pods the members' nodes may still take (allocatable pods minus the pods they run). */
async function podRoom(members: Members, names: readonly string[]): Promise<number> {
  let room = 0;
  for (const m of names) {
    const nodes = await members.core.get(m)!.listNode();
    const pods = await members.core.get(m)!.listPodForAllNamespaces();
    room += nodes.items.reduce((n, node) => n + Number(node.status?.allocatable?.pods ?? 0), 0) - pods.items.filter((p) => !p.metadata?.deletionTimestamp).length;
  }
  return room;
}

/**
 * `n` items created at once, then the time until every one has a Running pod. Both sides
 * use every agent member (policy public lets the federation use them all; the direct side
 * spreads round-robin over the same ones): 1,000 pods do not fit on the three unexposed
 * members' 990 pod slots.
 */
async function bulk(world: World, members: Members, ns: string, n: number): Promise<Bulk> {
  const targets = [...world.env.agents];
  const room = await podRoom(members, targets);
  if (room < n) throw new Error(`bulk: ${n} pods do not fit on ${targets.join(", ")}: room for ${room} (set BENCH_E2E_MEMORY_WORKLOADS lower)`);
  const idle = await rssOf(world.env.controlPlaneMetricsUrl);
  const agentIdle = new Map(await Promise.all(world.env.agents.map(async (m) => [m, (await rssOf(world.env.agentMetricsUrls[m])).rssMB] as const)));

  say(`bulk, direct: ${n} Deployments created at once over ${targets.join(", ")} (room for ${room} pods)`);
  const dns = `${ns}-direct`;
  await createMemberNamespaces(members, dns, targets);
  const d0 = performance.now();
  for (let i = 0; i < n; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) =>
      members.apps.get(targets[(i + k) % targets.length]!)!.createNamespacedDeployment({ namespace: dns, body: deploymentBody(`b-${i + k}`, { app: `b-${i + k}`, bench: "bulk" }) })));
  }
  const directRunning = new Set<number>();
  await waitWithProgress({
    world, what: `${n} direct Deployments Running`, timeoutMs: 900_000,
    check: async () => ((await runningIndices({ members, names: targets, ns: dns, labelSelector: "bench=bulk", index: (p) => numbered(/^b-(\d+)$/, p.app), into: directRunning })).size === n ? true : false),
    progress: () => `${directRunning.size}/${n} Running`,
  });
  const directMs = performance.now() - d0;
  say(`  bulk direct: all ${n} Running after ${fmt(directMs)}; deleting them`);
  await removeMemberNamespaces(world, members, dns, targets);

  say(`bulk, federated: ${n} SovereignWorkloads applied at once (policy public: every Ready member may hold them)`);
  world.apply([namespaceManifest(ns)]);
  const f0 = performance.now();
  for (let i = 0; i < n; i += 100) {
    world.apply(Array.from({ length: Math.min(100, n - i) }, (_, k) => workloadManifest({ namespace: ns, name: `m-${i + k}`, replicas: 1, policy: "public" })));
    say(`  ${Math.min(i + 100, n)}/${n} workloads applied`);
  }
  const fedRunning = new Set<number>();
  await waitWithProgress({
    world, what: `${n} workloads' pods Running`, timeoutMs: 900_000,
    check: async () => ((await runningIndices({ members, names: targets, ns, labelSelector: MEMBER_LABELS.workloadUid, index: (p) => numbered(/^m-(\d+)-/, p.name), into: fedRunning })).size === n ? true : false),
    progress: () => `${fedRunning.size}/${n} Running`,
  });
  const federatedMs = performance.now() - f0;
  const cp = await rssOf(world.env.controlPlaneMetricsUrl);
  const agents = await Promise.all(world.env.agents.map(async (member) => {
    const deployments = (await members.apps.get(member)?.listNamespacedDeployment({ namespace: ns, labelSelector: MEMBER_LABELS.workloadUid }))?.items.length ?? 0;
    const idleRss = agentIdle.get(member);
    const { rssMB } = await rssOf(world.env.agentMetricsUrls[member]);
    return { member, deployments, ...(rssMB !== undefined ? { rssMB } : {}), ...(idleRss !== undefined ? { idleRssMB: idleRss } : {}) };
  }));
  return {
    directMs, federatedMs, agents,
    controlPlane: {
      ...cp,
      ...(idle.rssMB !== undefined ? { idleRssMB: idle.rssMB } : {}), ...(idle.heapMB !== undefined ? { idleHeapMB: idle.heapMB } : {}),
    },
  };
}

const round = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));

export async function run(): Promise<void> {
  const world = await World.ready();
  const members = membersOf(world);
  const stamp = Date.now().toString(36);

  say(`baseline: ${WORKLOADS} Deployments created directly on ${members.names.join(", ")} at ${RATE_PER_S}/s`);
  const base = await direct(world, members, `bench-direct-${stamp}`, WORKLOADS);
  say(`baseline: create → pod Running ${PERCENTILES.map((q, i) => `${percentileLabel(q)} ${fmt(base.percentiles[i]!)}`).join(", ")}, ${base.throughputPerS.toFixed(1)}/s`);

  say(`federated: ${WORKLOADS} SovereignWorkloads applied on the host at ${RATE_PER_S}/s`);
  const ns = `bench-e2e-${stamp}`;
  const fed = await federated(world, members, ns, WORKLOADS);
  say(`federated: apply → pod Running ${PERCENTILES.map((q, i) => `${percentileLabel(q)} ${fmt(fed.timed.percentiles[i]!)}`).join(", ")}, ${fed.timed.throughputPerS.toFixed(1)}/s`);
  await deleteWorkloads(world, members, ns);

  say(`single workload on an idle federation: ${SINGLE_ROUNDS} rounds, federated then direct`);
  const sns = `bench-single-${stamp}`;
  const one = await single(world, members, sns);

  say(`drift: a Deployment deleted, scaled, edited on its member (each waited for at most ${DRIFT_TIMEOUT_MS / 1000} s)`);
  const drifts = await drift(world, members, sns);
  await deleteWorkloads(world, members, sns);

  say(`failover: ${FAILOVER_ROUNDS} rounds, default heartbeat settings, tolerationSeconds 0`);
  const fns = `bench-failover-${stamp}`;
  const fo = await failover(world, fns, FAILOVER_ROUNDS);
  await deleteWorkloads(world, members, fns);

  const mns = `bench-bulk-${stamp}`;
  const big = await bulk(world, members, mns, BULK);
  await deleteWorkloads(world, members, mns);

  const throughputRatio = ratio(fed.timed.throughputPerS, base.throughputPerS);
  const bulkRatio = ratio(big.directMs, big.federatedMs);
  const rows = overheadRows(base, fed.timed);
  const agentMax = [...big.agents].filter((a) => a.rssMB !== undefined).sort((a, b) => b.rssMB! - a.rssMB!)[0];
  const mb = (x: number | undefined) => (x === undefined ? "n/a" : `${x.toFixed(0)} MB`);
  console.log("");
  console.log(`apply → pod Running, ${WORKLOADS} workloads at ${RATE_PER_S}/s (direct: the same Deployments created on the members)`);
  console.log(overheadTable({ direct: base, federated: fed.timed, targetMs: TARGETS.overheadMs }));
  console.log(`throughput ratio    federated/direct ${formatRatio(throughputRatio)} (target ≥ ${TARGETS.throughputRatio}: ${verdict(throughputRatio >= TARGETS.throughputRatio)})`);
  console.log(fed.reconciles
    ? `reconciles          ${fed.reconciles.perWorkload.toFixed(2)} per workload, counting ${fed.reconciles.counts} (target ≤ ${TARGETS.reconcilesPerWorkload}: ${verdict(fed.reconciles.perWorkload <= TARGETS.reconcilesPerWorkload)})`
    : "reconciles          not measured: the control plane's /metrics has no reconcile counter");
  const cores = availableParallelism();
  const share = (x?: number) => (x === undefined ? "n/a" : `${x.toFixed(1)} s (${((100 * x) / (fed.cpu.wallS * cores)).toFixed(0)} % of ${cores} cores)`);
  console.log(`federation CPU      during the ${fed.cpu.wallS.toFixed(1)} s federated phase: control plane ${share(fed.cpu.controlPlaneS)}, agents ${share(fed.cpu.agentsS)}: taken from the members' own control planes on this machine`);
  console.log(`single workload     federated ${fmt(one.federatedMs)}, direct ${fmt(one.directMs)} (median of ${SINGLE_ROUNDS}; target ≤ direct + ${TARGETS.singleOverheadMs} ms: ${verdict(one.federatedMs <= one.directMs + TARGETS.singleOverheadMs)})`);
  for (const d of drifts) console.log(`drift               ${driftLine(d, TARGETS.driftMs)}`);
  console.log(`failover            p50 ${fmt(fo.percentiles[0]!)}  p99 ${fmt(fo.percentiles[2]!)} (target p99 ≤ ${TARGETS.failoverP99Ms} ms: ${verdict(fo.percentiles[2]! <= TARGETS.failoverP99Ms)})`);
  console.log(`${BULK} at once        all Running: federated ${fmt(big.federatedMs)}, direct ${fmt(big.directMs)}: direct/federated ${formatRatio(bulkRatio)} (target ≥ ${TARGETS.bulkRatio}: ${verdict(bulkRatio >= TARGETS.bulkRatio)})`);
  console.log(`control plane       RSS ${mb(big.controlPlane.rssMB)}, heap ${mb(big.controlPlane.heapMB)} holding ${BULK} workloads (idle: RSS ${mb(big.controlPlane.idleRssMB)}, heap ${mb(big.controlPlane.idleHeapMB)}; target RSS ≤ ${TARGETS.controlPlaneRssMB} MB: ${verdict((big.controlPlane.rssMB ?? Infinity) <= TARGETS.controlPlaneRssMB)})`);
  for (const a of big.agents) console.log(`agent ${a.member.padEnd(13)} RSS ${mb(a.rssMB)} holding ${a.deployments} Deployments (idle ${mb(a.idleRssMB)}; target ≤ ${TARGETS.agentRssMB} MB at 250: ${verdict((a.rssMB ?? Infinity) <= TARGETS.agentRssMB)})`);
  console.log(JSON.stringify({
    workloads: WORKLOADS, ratePerS: RATE_PER_S,
    applyToRunningMs: Object.fromEntries(rows.map((r) => [r.label, { direct: round(r.direct), federated: round(r.federated), overhead: round(r.overhead) }])),
    throughputPerS: { direct: round(base.throughputPerS, 2), federated: round(fed.timed.throughputPerS, 2), ratio: round(throughputRatio, 3) },
    federationCpuS: { controlPlane: round(fed.cpu.controlPlaneS, 1), agents: round(fed.cpu.agentsS, 1), wall: round(fed.cpu.wallS, 1), cores: availableParallelism() },
    reconcilesPerWorkload: fed.reconciles ? { value: round(fed.reconciles.perWorkload, 2), counts: fed.reconciles.counts } : null,
    singleWorkloadMs: { federated: round(one.federatedMs), direct: round(one.directMs), rounds: SINGLE_ROUNDS },
    driftRestoredMs: Object.fromEntries(drifts.map((d) => [d.kind, d.error ? { error: d.error } : round(d.restoredMs) ?? { notRestoredWithinMs: d.timeoutMs }])),
    failoverMs: { p50: round(fo.percentiles[0]), p99: round(fo.percentiles[2]), rounds: FAILOVER_ROUNDS },
    bulk: { workloads: BULK, federatedMs: round(big.federatedMs), directMs: round(big.directMs), ratio: round(bulkRatio, 3) },
    controlPlaneMB: { rss: round(big.controlPlane.rssMB), heap: round(big.controlPlane.heapMB), idleRss: round(big.controlPlane.idleRssMB), idleHeap: round(big.controlPlane.idleHeapMB) },
    agentRssMB: Object.fromEntries(big.agents.map((a) => [a.member, { rss: round(a.rssMB), deployments: a.deployments, idleRss: round(a.idleRssMB) }])),
    agentRssMaxMB: agentMax ? { member: agentMax.member, rss: round(agentMax.rssMB), deployments: agentMax.deployments } : null,
    targets: TARGETS,
  }));
}
