// `npm run bench -- e2e`: the whole system on the running local federation (`npm run
// demo` or `hack/federation up` leaves it so): SovereignWorkloads applied on the host at
// a fixed rate until their pods run on the members, against the same Deployments
// created directly on the member API servers in the same run (the baseline: what the
// members' own Kubernetes costs, with no federation in between); failover time with the
// default heartbeat settings; and the control plane's memory holding 1,000 workloads.
// The last line is one JSON object with every figure.
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import { MEMBER_LABELS } from "../operator/src/api/index.ts";
import { namespaceManifest, workloadManifest, World } from "../test/e2e/support/world.ts";
import { formatRatio, quantile } from "./lib/stats.ts";

const WORKLOADS = Number(process.env.BENCH_E2E_WORKLOADS ?? 200);
const RATE_PER_S = 20;
const FAILOVER_ROUNDS = Number(process.env.BENCH_E2E_FAILOVER_ROUNDS ?? 5);
const MEMORY_WORKLOADS = Number(process.env.BENCH_E2E_MEMORY_WORKLOADS ?? 1000);
const TARGETS = { applyP99Ms: 1000, ratio: 0.7, failoverP99Ms: 25_000, rssMB: 300 };

const say = (line: string) => console.log(`[bench e2e] ${line}`);
const sorted = (xs: number[]) => Float64Array.from(xs).sort();
const ms = (x: number) => `${x.toFixed(0)} ms`;

interface Timed {
  p50: number;
  p99: number;
  throughputPerS: number;
}

function summary(latencies: number[], wallMs: number): Timed {
  const s = sorted(latencies);
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), throughputPerS: (latencies.length / wallMs) * 1000 };
}

/** Applies `n` items at RATE_PER_S, each with `start(i)`, and resolves with each one's latency to `done(i)`. */
async function paced(params: { n: number; start: (i: number) => Promise<void> | void; done: () => Promise<Set<number>>; what: string; timeoutMs: number }): Promise<{ latencies: number[]; wallMs: number }> {
  const started = new Map<number, number>();
  const finished = new Map<number, number>();
  const t0 = performance.now();
  let next = 0;
  let lastReport = t0;
  while (finished.size < params.n) {
    const now = performance.now();
    while (next < params.n && next <= ((now - t0) / 1000) * RATE_PER_S) {
      started.set(next, performance.now());
      await params.start(next);
      next++;
    }
    for (const i of await params.done()) if (started.has(i) && !finished.has(i)) finished.set(i, performance.now());
    if (performance.now() - lastReport > 5000) {
      say(`${params.what}: ${started.size}/${params.n} applied, ${finished.size} running`);
      lastReport = performance.now();
    }
    if (performance.now() - t0 > params.timeoutMs) throw new Error(`${params.what}: only ${finished.size}/${params.n} running after ${params.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { latencies: [...finished].map(([i, t]) => t - started.get(i)!), wallMs: performance.now() - t0 };
}

async function federated(world: World, ns: string, n: number): Promise<Timed> {
  world.apply([namespaceManifest(ns)]);
  const running = new Set<number>();
  const r = await paced({
    n, what: "federated",
    timeoutMs: 600_000,
    // Through the API (as kubectl would, without a process per object): the pace is the bench's, not fork's.
    start: async (i) => {
      await world.host.createNamespacedCustomObject({ group: "sovereignty.eu", version: "v1alpha1", namespace: ns, plural: "sovereignworkloads", body: workloadManifest({ namespace: ns, name: `w-${i}`, replicas: 1, policy: "personal-data-eu" }) });
    },
    done: async () => {
      // One list per member per round: pods Running, by workload name (the Deployment is named like it).
      for (const core of world.members.values()) {
        const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: MEMBER_LABELS.workloadUid });
        for (const p of pods.items) {
          if (p.status?.phase !== "Running") continue;
          const m = /^w-(\d+)-/.exec(p.metadata?.name ?? "");
          if (m) running.add(Number(m[1]));
        }
      }
      return running;
    },
  });
  return summary(r.latencies, r.wallMs);
}

async function direct(world: World, ns: string, n: number): Promise<Timed> {
  const members = [...world.members.keys()].filter((m) => m !== "aws-fra-1");
  const apps = members.map((m) => {
    const kc = new KubeConfig();
    kc.loadFromFile(world.env.memberKubeconfigs[m]!);
    return kc.makeApiClient(AppsV1Api);
  });
  for (const m of members) world.kubectl(["create", "namespace", ns], { kubeconfig: world.env.memberKubeconfigs[m]! });
  const running = new Set<number>();
  const r = await paced({
    n, what: "direct",
    timeoutMs: 600_000,
    start: async (i) => {
      const labels = { app: `d-${i}`, bench: "direct" };
      await apps[i % apps.length]!.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: `d-${i}`, labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "registry.example.eu/e2e:1.0", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] } },
          },
        },
      });
    },
    done: async () => {
      for (const core of members.map((m) => world.members.get(m)!)) {
        const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: "bench=direct" });
        for (const p of pods.items) if (p.status?.phase === "Running") running.add(Number(/^d-(\d+)$/.exec(p.metadata?.labels?.app ?? "")?.[1]));
      }
      return running;
    },
  });
  for (const m of members) world.kubectl(["delete", "namespace", ns, "--wait=false"], { kubeconfig: world.env.memberKubeconfigs[m]! });
  return summary(r.latencies, r.wallMs);
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
    const w = await world.untilStatus(ns, name, "Ready", (w) => w.status?.readyReplicas === 1, 120_000);
    const member = w.status!.placements![0]!.cluster;
    const stoppedAt = performance.now();
    world.component("stop", `agent-${member}`);
    try {
      await world.until(`replacement of ${name} Running off ${member}`, async () =>
        (await world.podsOf(w.metadata.uid!)).some((p) => p.member !== member && p.phase === "Running"), 120_000);
      latencies.push(performance.now() - stoppedAt);
      say(`failover round ${round + 1}/${rounds}: ${ms(latencies.at(-1)!)} (agent-${member} stopped → replacement Running)`);
    } finally {
      world.component("start", `agent-${member}`);
    }
    await world.untilMemberReady(member, true, 90_000);
  }
  return summary(latencies, performance.now() - t0);
}

async function controlPlaneRss(world: World): Promise<number> {
  const url = world.env.vars.CONTROL_PLANE_METRICS_URL;
  if (!url) throw new Error(".federation/env has no CONTROL_PLANE_METRICS_URL: is the control plane a component of the federation?");
  const text = await (await fetch(url)).text();
  const m = /^process_resident_memory_bytes (\S+)$/m.exec(text);
  if (!m) throw new Error("the control plane's /metrics has no process_resident_memory_bytes");
  return Number(m[1]) / 1024 / 1024;
}

async function memory(world: World, ns: string, n: number): Promise<{ rssMB: number; rssIdleMB: number }> {
  const rssIdleMB = await controlPlaneRss(world);
  world.apply([namespaceManifest(ns)]);
  for (let i = 0; i < n; i += 100) {
    world.apply(Array.from({ length: Math.min(100, n - i) }, (_, k) => workloadManifest({ namespace: ns, name: `m-${i + k}`, replicas: 1, policy: "public" })));
    say(`memory: ${Math.min(i + 100, n)}/${n} workloads applied`);
  }
  await world.until(`${n} workloads Scheduled`, async () => {
    const list = (await world.host.listNamespacedCustomObject({ group: "sovereignty.eu", version: "v1alpha1", namespace: ns, plural: "sovereignworkloads" })) as { items: { status?: { readyReplicas?: number } }[] };
    const ready = list.items.filter((w) => w.status?.readyReplicas === 1).length;
    return ready === n;
  }, 900_000);
  return { rssMB: await controlPlaneRss(world), rssIdleMB };
}

async function cleanup(world: World, ns: string): Promise<void> {
  say(`deleting the workloads of ${ns} (each leaves every member first, through its finalizer)`);
  world.kubectl(["delete", "sovereignworkloads", "--all", "-n", ns, "--wait=false"]);
  let last = 0;
  await world.until(`the workloads of ${ns} gone`, async () => {
    const list = (await world.host.listNamespacedCustomObject({ group: "sovereignty.eu", version: "v1alpha1", namespace: ns, plural: "sovereignworkloads" })) as { items: unknown[] };
    if (performance.now() - last > 10_000) {
      say(`  ${list.items.length} left`);
      last = performance.now();
    }
    return list.items.length === 0;
  }, 900_000);
  world.kubectl(["delete", "namespace", ns, "--wait=false"]);
}

export async function run(): Promise<void> {
  const world = await World.ready();
  const stamp = Date.now().toString(36);

  say(`baseline: ${WORKLOADS} Deployments created directly on the member API servers at ${RATE_PER_S}/s`);
  const base = await direct(world, `bench-direct-${stamp}`, WORKLOADS);
  say(`baseline: create → pod Running p50 ${ms(base.p50)}, p99 ${ms(base.p99)}, ${base.throughputPerS.toFixed(1)}/s`);

  say(`federated: ${WORKLOADS} SovereignWorkloads applied on the host at ${RATE_PER_S}/s`);
  const ns = `bench-e2e-${stamp}`;
  const fed = await federated(world, ns, WORKLOADS);
  say(`federated: apply → pod Running p50 ${ms(fed.p50)}, p99 ${ms(fed.p99)}, ${fed.throughputPerS.toFixed(1)}/s`);
  await cleanup(world, ns);
  const ratio = fed.throughputPerS / base.throughputPerS;
  const latencyRatio = base.p50 / fed.p50;

  say(`failover: ${FAILOVER_ROUNDS} rounds, default heartbeat settings, tolerationSeconds 0`);
  const fns = `bench-failover-${stamp}`;
  const fo = await failover(world, fns, FAILOVER_ROUNDS);
  await cleanup(world, fns);

  say(`memory: control plane RSS holding ${MEMORY_WORKLOADS} workloads`);
  const mns = `bench-memory-${stamp}`;
  const mem = await memory(world, mns, MEMORY_WORKLOADS);

  await cleanup(world, mns);

  const verdict = (ok: boolean) => (ok ? "meets target" : "MISSES target");
  console.log("");
  console.log(`apply → Running     p50 ${ms(fed.p50)}  p99 ${ms(fed.p99)}  (target p99 ≤ ${TARGETS.applyP99Ms} ms: ${verdict(fed.p99 <= TARGETS.applyP99Ms)})`);
  console.log(`direct baseline     p50 ${ms(base.p50)}  p99 ${ms(base.p99)}`);
  console.log(`throughput          ${fed.throughputPerS.toFixed(1)}/s vs ${base.throughputPerS.toFixed(1)}/s direct: ratio ${formatRatio(ratio)} (target ≥ ${TARGETS.ratio}: ${verdict(ratio >= TARGETS.ratio)}); latency ratio direct/federated ${formatRatio(latencyRatio)}`);
  console.log(`failover            p50 ${ms(fo.p50)}  p99 ${ms(fo.p99)}  (target p99 ≤ ${TARGETS.failoverP99Ms} ms: ${verdict(fo.p99 <= TARGETS.failoverP99Ms)})`);
  console.log(`control plane RSS   ${mem.rssMB.toFixed(0)} MB with ${MEMORY_WORKLOADS} workloads (${mem.rssIdleMB.toFixed(0)} MB before; target ≤ ${TARGETS.rssMB} MB: ${verdict(mem.rssMB <= TARGETS.rssMB)})`);
  console.log(JSON.stringify({
    workloads: WORKLOADS, ratePerS: RATE_PER_S,
    applyToRunningMs: { p50: Math.round(fed.p50), p99: Math.round(fed.p99) }, throughputPerS: Number(fed.throughputPerS.toFixed(2)),
    directBaselineMs: { p50: Math.round(base.p50), p99: Math.round(base.p99) }, directThroughputPerS: Number(base.throughputPerS.toFixed(2)),
    throughputRatio: Number(ratio.toFixed(3)), latencyRatio: Number(latencyRatio.toFixed(3)),
    failoverMs: { p50: Math.round(fo.p50), p99: Math.round(fo.p99), rounds: FAILOVER_ROUNDS },
    controlPlaneRssMB: Math.round(mem.rssMB), controlPlaneRssIdleMB: Math.round(mem.rssIdleMB), memoryWorkloads: MEMORY_WORKLOADS,
    targets: TARGETS,
  }));
}
