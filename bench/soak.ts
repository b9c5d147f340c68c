// `npm run soak -- --minutes 10`: the running local federation (`hack/federation up`)
// held at WORKLOADS SovereignWorkloads under seeded random churn (applies of new ones,
// scales, deletes) for N minutes, sampled every few seconds from the /metrics of the
// control plane and every agent: RSS, workqueue depth, reconciles by result. At the end:
// the curve as a table, each process's RSS growth after the warm-up (target < 10 %),
// whether the queues drained and every workload converged once the churn stopped, whether
// the reconcile errors were only transient, and a PNG plot under bench/out/.
// Bring the federation up with SOV_ATTESTATION_INTERVAL=5m (the agents' production
// default), as for `npm run bench -- e2e`: the local 10 s would make the members append
// signed ledger records for every workload all the time, and that is not what is soaked.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { SovereignWorkload } from "../operator/src/api/index.ts";
import { DEFAULT_RELIST_INTERVAL_MS } from "../operator/src/kube/index.ts";
import { namespaceManifest, workloadManifest, World } from "../test/e2e/support/world.ts";
import { counterSum } from "./lib/e2e-report.ts";
import { chartHeight, chartHtml, chromium, screenshot } from "./lib/plot.ts";
import type { Panel, Series } from "./lib/plot.ts";
import { seededRandom } from "./lib/random.ts";

const GROUP = "sovereignty.eu";
const VERSION = "v1alpha1";
const PLURAL = "sovereignworkloads";
const MB = 1024 * 1024;
export const GROWTH_TARGET = 0.1;
const OUT = path.resolve(import.meta.dirname, "out");

export interface Options {
  minutes: number;
  workloads: number;
  /** Churn operations a second. */
  rate: number;
  /** Seconds between samples. */
  interval: number;
  seed: number;
  /** Leave the workloads in place at the end (a federation about to go down need not delete them). */
  keep: boolean;
  /** Seconds of churn before RSS is compared (see defaultWarmupS). */
  warmupS: number;
}

/** How often every informer of the control plane and the agents lists again and announces every object. */
export const RELIST_S = DEFAULT_RELIST_INTERVAL_MS / 1000;

/**
 * The warm-up when none is given: 2 minutes, or, on a run of 15 minutes or more, 6 minutes,
 * so that it holds the informers' first relist (every object listed and reconciled again:
 * the highest load of the steady state, whose heap V8 keeps). Never more than 40 % of the run.
 */
export function defaultWarmupS(minutes: number): number {
  return Math.min(minutes >= 15 ? RELIST_S + 60 : 120, minutes * 60 * 0.4);
}

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: "string", default: "10" }, workloads: { type: "string", default: "1000" }, rate: { type: "string", default: "5" },
      interval: { type: "string", default: "5" }, seed: { type: "string" }, keep: { type: "boolean", default: false }, warmup: { type: "string" },
    },
    strict: true,
  });
  const num = (name: string, v: string, ok: (n: number) => boolean, what: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`--${name}: "${v}" is not ${what}`);
    return n;
  };
  const minutes = num("minutes", values.minutes, (n) => n > 0 && n <= 24 * 60, "a number of minutes above 0");
  return {
    minutes,
    workloads: num("workloads", values.workloads, (n) => Number.isInteger(n) && n >= 10, "a whole number of at least 10"),
    rate: num("rate", values.rate, (n) => n > 0 && n <= 100, "a rate between 0 and 100 per second"),
    interval: num("interval", values.interval, (n) => n >= 1 && n <= 60, "between 1 and 60 seconds"),
    seed: values.seed === undefined ? Math.floor(Math.random() * 0xffffffff) : num("seed", values.seed, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, "a whole number"),
    keep: values.keep,
    warmupS: values.warmup === undefined ? defaultWarmupS(minutes) : num("warmup", values.warmup, (n) => n >= 0 && n < minutes, "a number of minutes below --minutes") * 60,
  };
}

/** One sample of one process (the control plane, or an agent). */
export interface ProcessSample {
  rssMB: number;
  /** V8 heap in use: what a leak grows; RSS also follows the garbage collector's sawtooth. */
  heapMB: number;
  /** Summed over its workqueues; NaN when it exports none. */
  queueDepth: number;
  reconciles: number;
  errors: number;
}

export interface Sample {
  /** Seconds since the churn started (negative while the workloads were first applied). */
  t: number;
  phase: "ramp" | "churn" | "drain";
  /** By process: "control-plane", or "agent-<member>"; absent when its /metrics did not answer. */
  procs: Record<string, ProcessSample | undefined>;
  /** Churn operations done so far. */
  ops: number;
}

export function processSample(text: string): ProcessSample {
  return {
    rssMB: (counterSum(text, "process_resident_memory_bytes") ?? NaN) / MB,
    heapMB: (counterSum(text, "nodejs_heap_size_used_bytes") ?? NaN) / MB,
    // NaN: this process exports no workqueue at all (not the same as an empty one).
    queueDepth: counterSum(text, "workqueue_depth") ?? NaN,
    reconciles: counterSum(text, "controller_runtime_reconcile_total") ?? 0,
    errors: counterSum(text, "controller_runtime_reconcile_total", { result: "error" }) ?? 0,
  };
}

/** The keys waiting in `procs`' workqueues (those that export one), NaN when none does. */
export function queued(s: Sample, procs: readonly string[]): number {
  const depths = procs.map((p) => s.procs[p]?.queueDepth ?? NaN).filter(Number.isFinite);
  return depths.length ? depths.reduce((a, b) => a + b, 0) : NaN;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * RSS growth of one process after the warm-up: the mean over the first `windowS` seconds
 * after `warmupS` against the mean over the last `windowS` seconds of the churn. Means
 * over a window, not single samples, so one garbage collection does not decide it.
 */
export function growth(samples: readonly Sample[], proc: string, params: { warmupS: number; endS: number; windowS: number; of?: "rssMB" | "heapMB" }): { fromMB: number; toMB: number; growth: number; maxMB: number } {
  const of = params.of ?? "rssMB";
  const rss = (lo: number, hi: number) => samples.filter((s) => s.t >= lo && s.t <= hi).map((s) => s.procs[proc]?.[of] ?? NaN).filter(Number.isFinite);
  const fromMB = mean(rss(params.warmupS, params.warmupS + params.windowS));
  const toMB = mean(rss(params.endS - params.windowS, params.endS));
  const all = rss(params.warmupS, params.endS);
  return { fromMB, toMB, growth: toMB / fromMB - 1, maxMB: all.length ? Math.max(...all) : NaN };
}

/**
 * Whether the reconcile errors were transient: each failed reconcile retries, so errors are
 * transient when the churn's end leaves every workload converged and the queues empty,
 * and the error count stops rising once the churn stops (none in the drain's last
 * `quietS` seconds). Errors that persist would keep the counter climbing after the churn.
 */
export function errorsTransient(samples: readonly Sample[], params: { quietS: number }): { total: number; inChurn: number; inDrain: number; lastErrorT: number | undefined; quietAtEnd: boolean } {
  const errorsAt = (s: Sample) => Object.values(s.procs).reduce((n, p) => n + (p?.errors ?? 0), 0);
  let total = 0;
  let inChurn = 0;
  let inDrain = 0;
  let lastErrorT: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    // A process restarted (counter reset) counts from 0 again.
    const d = Math.max(0, errorsAt(samples[i]!) - errorsAt(samples[i - 1]!));
    if (d === 0) continue;
    total += d;
    if (samples[i]!.phase === "drain") inDrain += d;
    else inChurn += d;
    lastErrorT = samples[i]!.t;
  }
  const end = samples.at(-1)?.t ?? 0;
  return { total, inChurn, inDrain, lastErrorT, quietAtEnd: lastErrorT === undefined || end - lastErrorT >= params.quietS };
}

/** Per-second rates between consecutive samples of a counter (summed over `procs`). */
export function rates(samples: readonly Sample[], procs: readonly string[], pick: (p: ProcessSample) => number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    let d = 0;
    for (const p of procs) {
      const x = a.procs[p];
      const y = b.procs[p];
      if (x && y) d += Math.max(0, pick(y) - pick(x));
    }
    out.push([b.t / 60, d / Math.max(1e-9, b.t - a.t)]);
  }
  return out;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"];

export function panels(samples: readonly Sample[], procs: readonly string[], growthOf: Readonly<Record<string, number>> = {}): Panel[] {
  const line = (proc: string, i: number, v: (p: ProcessSample) => number, label = proc): Series => ({
    label, colour: COLOURS[i % COLOURS.length]!, points: samples.map((s) => [s.t / 60, s.procs[proc] ? v(s.procs[proc]) : NaN] as const),
  });
  const agents = procs.filter((p) => p !== "control-plane");
  return [
    {
      title: "Resident memory", unit: "MB",
      series: procs.map((p, i) => line(p, i, (x) => x.rssMB, growthOf[p] === undefined ? p : `${p} ${growthOf[p] >= 0 ? "+" : ""}${(growthOf[p] * 100).toFixed(1)} %`)),
    },
    { title: "V8 heap in use", unit: "MB", series: procs.map((p, i) => line(p, i, (x) => x.heapMB)) },
    {
      title: "Workqueue depth", unit: "keys",
      series: [line("control-plane", 0, (x) => x.queueDepth), { label: "agents (sum)", colour: COLOURS[1]!, points: samples.map((s) => [s.t / 60, queued(s, agents)] as const) }],
    },
    {
      title: "Reconciles", unit: "per s",
      series: [
        { label: "control plane", colour: COLOURS[0]!, points: rates(samples, ["control-plane"], (x) => x.reconciles) },
        { label: "agents (sum)", colour: COLOURS[1]!, points: rates(samples, agents, (x) => x.reconciles) },
        { label: "errors (all)", colour: "#000000", points: rates(samples, procs, (x) => x.errors) },
      ],
    },
  ];
}

/**
 * Replicas of a workload, for the first population, each new workload and each scale
 * alike, so the load is stationary: the pods the members hold stay about where the ramp
 * left them, and RSS after the warm-up is compared under the same load (a first run drew
 * scales from 1-3 over a population of 1s, and the pods grew by a third over the churn).
 * Mean 1.1: 1,000 workloads fit the four agent members' 1,320 pod slots.
 */
export function drawReplicas(random: () => number): number {
  return random() < 0.9 ? 1 : 2;
}

const say = (line: string) => console.log(`[soak] ${line}`);
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");

async function scrape(url: string | undefined): Promise<ProcessSample | undefined> {
  if (!url) return undefined;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(4000) });
    return r.ok ? processSample(await r.text()) : undefined;
  } catch {
    return undefined;
  }
}

interface Population {
  /** Live workloads by name, with the replicas asked for. */
  live: Map<string, number>;
  next: number;
  pods: number;
}

export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const opts = parseOptions(argv);
  const wallStart = Date.now();
  const random = seededRandom(opts.seed);
  const world = await World.ready({ audit: false });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const ns = `soak-${Date.now().toString(36)}`;
  const procs = ["control-plane", ...world.env.agents.map((m) => `agent-${m}`)];
  const urls: Record<string, string | undefined> = { "control-plane": world.env.controlPlaneMetricsUrl, ...Object.fromEntries(world.env.agents.map((m) => [`agent-${m}`, world.env.agentMetricsUrls[m]])) };
  // 110 pods per kwok node; what the system pods and the replicas above 1 may take stays free.
  const podBudget = Math.floor(world.env.agents.length * 3 * 110 * 0.88);
  if (opts.workloads > podBudget) throw new Error(`${opts.workloads} workloads do not fit the agent members' room for about ${podBudget} pods`);
  say(`seed ${opts.seed} (--seed ${opts.seed} repeats the churn); ${opts.workloads} workloads, ${opts.rate} ops/s for ${opts.minutes} min, a sample every ${opts.interval} s; agents ${world.env.agents.join(", ")}`);
  const patchOpts = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const pop: Population = { live: new Map(), next: 0, pods: 0 };
  const manifest = (name: string, replicas: number) => workloadManifest({ namespace: ns, name, replicas, policy: "public" });
  const create = async (replicas: number) => {
    const name = `s-${pop.next++}`;
    await world.host.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body: manifest(name, replicas) });
    pop.live.set(name, replicas);
    pop.pods += replicas;
  };

  const samples: Sample[] = [];
  let phase: Sample["phase"] = "ramp";
  let t0 = performance.now();
  let ops = 0;
  let lastPrint = 0;
  const sampleOnce = async () => {
    const entries = await Promise.all(procs.map(async (p) => [p, await scrape(urls[p])] as const));
    const s: Sample = { t: (performance.now() - t0) / 1000, phase, procs: Object.fromEntries(entries), ops };
    samples.push(s);
    if (s.t - lastPrint >= 30 || phase !== "churn") {
      lastPrint = s.t;
      const cp = s.procs["control-plane"];
      const agentRss = procs.slice(1).map((p) => f1(s.procs[p]?.rssMB ?? NaN)).join("/");
      say(`  ${phase} t=${s.t.toFixed(0)}s ops=${ops} live=${pop.live.size} pods=${pop.pods} | cp RSS ${f1(cp?.rssMB ?? NaN)} MB, queue ${cp?.queueDepth ?? "?"}, reconciles ${cp?.reconciles ?? "?"} (errors ${cp?.errors ?? "?"}) | agents RSS ${agentRss} MB, queues ${queued(s, procs.slice(1))}`);
    }
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const next = performance.now() + opts.interval * 1000;
      await sampleOnce();
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();

  // Ramp: the population applied, then waited for until every workload is Ready.
  world.apply([namespaceManifest(ns)]);
  for (let i = 0; i < opts.workloads; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, opts.workloads - i) }, () => create(drawReplicas(random))));
    if ((i + 50) % 250 === 0 || i + 50 >= opts.workloads) say(`  ${Math.min(i + 50, opts.workloads)}/${opts.workloads} workloads applied`);
  }
  const converged = async (what: string, timeoutMs: number) => {
    let last = 0;
    await world.until(what, async () => {
      const list = (await world.host.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })) as { items: SovereignWorkload[] };
      const pending = list.items.filter((w) => w.metadata.deletionTimestamp === undefined
        && !(w.status?.observedGeneration === w.metadata.generation && w.status?.readyReplicas === w.spec.replicas));
      const deleting = list.items.filter((w) => w.metadata.deletionTimestamp !== undefined).length;
      if (performance.now() - last > 15_000) {
        say(`  ${what}: ${pending.length} not Ready yet, ${deleting} being deleted`);
        last = performance.now();
      }
      return pending.length === 0 && deleting === 0 && list.items.length === pop.live.size;
    }, timeoutMs);
  };
  await converged(`all ${opts.workloads} workloads Ready`, 900_000);
  const rampS = (performance.now() - t0) / 1000;
  say(`ramp done in ${rampS.toFixed(0)} s; churn for ${opts.minutes} min`);
  // The churn's clock: samples before it are the ramp (negative t).
  const shift = (performance.now() - t0) / 1000;
  for (const s of samples) s.t -= shift;
  t0 = performance.now();
  phase = "churn";
  lastPrint = -Infinity;

  const counts = { apply: 0, scale: 0, delete: 0, failed: 0 };
  const churnMs = opts.minutes * 60_000;
  const low = Math.floor(opts.workloads * 0.9);
  while (performance.now() - t0 < churnMs) {
    const due = t0 + ((ops + 1) / opts.rate) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    const roll = random();
    const names = [...pop.live.keys()];
    try {
      if (pop.live.size < low || (roll < 0.3 && pop.live.size < opts.workloads)) {
        // More than one replica only while the pods fit: the members' room is finite.
        const replicas = drawReplicas(random);
        await create(pop.pods + replicas <= podBudget ? replicas : 1);
        counts.apply++;
      } else if (roll < 0.7) {
        const name = names[Math.floor(random() * names.length)]!;
        const from = pop.live.get(name)!;
        const to = drawReplicas(random);
        if (pop.pods - from + to <= podBudget) {
          await world.host.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name, body: { spec: { replicas: to } } }, patchOpts);
          pop.live.set(name, to);
          pop.pods += to - from;
        }
        counts.scale++;
      } else {
        const name = names[Math.floor(random() * names.length)]!;
        await world.host.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name });
        pop.pods -= pop.live.get(name)!;
        pop.live.delete(name);
        counts.delete++;
      }
    } catch (err) {
      counts.failed++;
      say(`  a churn operation failed (the API server's answer, not the federation's): ${(err as Error).message.split("\n")[0]}`);
    }
    ops++;
  }
  const endS = (performance.now() - t0) / 1000;
  phase = "drain";
  say(`churn done: ${counts.apply} applies, ${counts.scale} scales, ${counts.delete} deletes${counts.failed ? `, ${counts.failed} refused by the API server` : ""}; waiting for convergence and empty queues`);

  const drainStart = performance.now();
  const quietS = Math.max(3 * opts.interval, 15);
  // A drain that does not finish is a finding, not a reason to lose the curve: the report
  // and the plot still come, and the run fails at the end.
  let notDrained: string | undefined;
  try {
    await converged(`all ${pop.live.size} live workloads Ready and the deleted gone`, 300_000);
    await world.until("every workqueue empty, for two samples in a row", async () => {
      const last = samples.slice(-2);
      return last.length === 2 && last.every((s) => s.phase === "drain" && procs.every((p) => s.procs[p] !== undefined) && queued(s, procs) === 0) && (performance.now() - drainStart) / 1000 >= quietS;
    }, 300_000);
  } catch (err) {
    notDrained = (err as Error).message.split("\n")[0];
  }
  const drainedS = (performance.now() - drainStart) / 1000;
  sampling = false;
  await sampler;

  // ---- the report ----
  const warmupS = Math.min(opts.warmupS, endS * 0.6);
  const windowS = Math.min(60, Math.max(opts.interval * 3, (endS - warmupS) / 4));
  console.log("");
  console.log(`soak: ${opts.workloads} workloads, ${opts.minutes} min of churn at ${opts.rate} ops/s (seed ${opts.seed}); warm-up: the first ${warmupS.toFixed(0)} s of the churn${warmupS >= RELIST_S ? ", which holds the informers' first relist" : ""}`);
  const head = ["t (s)", "phase", "ops", ...procs.map((p) => `${p} RSS MB`), "cp queue", "agents queue", "cp reconciles/s", "errors/s"];
  const cpRate = rates(samples, ["control-plane"], (x) => x.reconciles);
  const errRate = rates(samples, procs, (x) => x.errors);
  const every = Math.max(1, Math.round(30 / opts.interval));
  const rows = samples.map((s, i) => ({ s, i })).filter(({ s, i }) => i % every === 0 || i === samples.length - 1 || s.phase === "drain").map(({ s, i }) => [
    s.t.toFixed(0), s.phase, String(s.ops), ...procs.map((p) => f1(s.procs[p]?.rssMB ?? NaN)), String(s.procs["control-plane"]?.queueDepth ?? "?"),
    String(queued(s, procs.slice(1))), i > 0 ? f1(cpRate[i - 1]![1]) : "", i > 0 ? f1(errRate[i - 1]![1]) : "",
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const fmtRow = (cells: readonly string[]) => `| ${cells.map((c, k) => c.padStart(widths[k]!)).join(" | ")} |`;
  console.log([fmtRow(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(fmtRow)].join("\n"));
  console.log("");
  const growths = procs.map((p) => ({ p, ...growth(samples, p, { warmupS, endS, windowS }) }));
  const heaps = new Map(procs.map((p) => [p, growth(samples, p, { warmupS, endS, windowS, of: "heapMB" })]));
  for (const g of growths) {
    const h = heaps.get(g.p)!;
    console.log(`${g.p.padEnd(22)} heap in use ${f1(h.fromMB)} → ${f1(h.toMB)} MB (${(h.growth * 100).toFixed(1)} %); RSS ${f1(g.fromMB)} MB after warm-up → ${f1(g.toMB)} MB at the end (mean of ${windowS.toFixed(0)} s windows; max ${f1(g.maxMB)} MB): growth ${(g.growth * 100).toFixed(1)} % (target < ${GROWTH_TARGET * 100} %: ${g.growth < GROWTH_TARGET ? "meets target" : "MISSES target"})`);
  }
  const final = samples.at(-1)!;
  const queuesEmpty = queued(final, procs) === 0;
  console.log(notDrained
    ? `NOT converged ${drainedS.toFixed(0)} s after the churn stopped: ${notDrained}; queues at the end: ${procs.map((p) => `${p} ${final.procs[p]?.queueDepth ?? "?"}`).join(", ")}`
    : `queues at the end: ${procs.map((p) => `${p} ${final.procs[p]?.queueDepth ?? "?"}`).join(", ")}: ${queuesEmpty ? "drained" : "NOT drained"}, ${drainedS.toFixed(0)} s after the churn stopped (every live workload Ready, every deleted one gone)`);
  const errs = errorsTransient(samples, { quietS });
  console.log(`reconcile errors: ${errs.total} (${errs.inChurn} during the ramp and churn, ${errs.inDrain} in the drain${errs.lastErrorT !== undefined ? `, the last at t=${errs.lastErrorT.toFixed(0)} s` : ""}); `
    + `${!errs.quietAtEnd ? "NOT only transient: errors still came at the end" : notDrained ? `no error in the drain's last ${quietS} s, but the federation did not converge` : `transient: every workload converged, the queues drained and no error came in the drain's last ${quietS} s`}`);
  const causes = errorCauses(world, wallStart);
  if (causes.length) console.log(`the control plane's and agents' error log lines during the soak, by message:\n${causes.map((c) => `  ${String(c.n).padStart(6)}  ${c.msg}`).join("\n")}`);

  const bin = chromium();
  const name = `soak-${stamp}`;
  // The time axis starts at the ramp: shift it so the plot's x stays positive.
  const rampMin = -Math.min(0, ...samples.map((s) => s.t)) / 60;
  const shifted = samples.map((s) => ({ ...s, t: s.t + rampMin * 60 }));
  const page = chartHtml({
    title: `Soak: ${opts.workloads} workloads, ${opts.minutes} min of churn at ${opts.rate} ops/s`,
    subtitle: `seed ${opts.seed}; ${counts.apply} applies, ${counts.scale} scales, ${counts.delete} deletes; RSS growth after warm-up in the legend (target < ${GROWTH_TARGET * 100} %)`,
    panels: panels(shifted, procs, Object.fromEntries(growths.map((g) => [g.p, g.growth]))),
    markers: [{ x: rampMin, label: "churn starts" }, { x: rampMin + warmupS / 60, label: "warm-up ends" }, { x: rampMin + endS / 60, label: "churn ends" }],
    xLabel: "minutes since the workloads were first applied",
  });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify({ opts, counts, rampS, endS, drainedS, warmupS, growths, errors: errs, samples }, null, 1));
  if (bin) {
    const { png } = screenshot({ bin, dir: OUT, name, html: page, height: chartHeight(4) });
    console.log(`plot: ${png}`);
  } else {
    const file = path.join(OUT, `${name}.html`);
    writeFileSync(file, page);
    console.log(`plot: no chromium on PATH (hack/system-packages installs it); the chart is ${file}`);
  }
  console.log(`samples: ${path.join(OUT, `${name}.json`)}`);

  if (!opts.keep) {
    say(`deleting the ${pop.live.size} workloads and the namespace ${ns}`);
    world.kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=600s"]);
  }
  console.log(JSON.stringify({
    soak: {
      workloads: opts.workloads, minutes: opts.minutes, rate: opts.rate, seed: opts.seed, ops: counts, rampS: Math.round(rampS), drainedS: Math.round(drainedS),
      growthPct: Object.fromEntries(growths.map((g) => [g.p, Number((g.growth * 100).toFixed(1))])),
      heapGrowthPct: Object.fromEntries([...heaps].map(([p, h]) => [p, Number((h.growth * 100).toFixed(1))])), queuesDrained: queuesEmpty && notDrained === undefined, errors: errs,
    },
  }));
  if (notDrained) process.exitCode = 1;
}

/** Error-level log lines (pino level ≥ 50) of the control plane and agents since `sinceMs`, counted by message. */
function errorCauses(world: World, sinceMs: number): { msg: string; n: number }[] {
  const counts = new Map<string, number>();
  for (const proc of ["control-plane", ...world.env.agents.map((m) => `agent-${m}`)]) {
    let text: string;
    try {
      text = readFileSync(path.join(world.env.stateDir, "logs", `${proc}.log`), "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const rec = JSON.parse(line) as { level?: number; time?: number; msg?: string; err?: { message?: string } };
        if ((rec.level ?? 0) < 50 || (rec.time ?? 0) < sinceMs) continue;
        const key = `${proc}: ${rec.msg ?? ""}${rec.err?.message ? ` (${rec.err.message.split("\n")[0]!.replace(/[a-z0-9-]{20,}/g, "…").slice(0, 120)})` : ""}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      } catch {
        // not a JSON line
      }
    }
  }
  return [...counts].map(([msg, n]) => ({ msg, n })).sort((a, b) => b.n - a.n).slice(0, 8);
}

if (import.meta.main) {
  run().catch((err: unknown) => {
    console.error(`[soak] failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
