/**
 * What every chaos scenario shares: a seed (printed, and settable with CHAOS_SEED so a
 * failing run can be repeated), the short variant switch (CHAOS_SHORT=1: each scenario
 * bounded to about a minute, for `npm test`), a census of what the members hold against
 * what the host placed, and the table `npm run chaos` prints at its end:
 *
 *   scenario | recovered in s | residency violations | lost pods | duplicate pods or Deployments
 *
 * The last three must be 0. A scenario that fails still gets its row (with what the
 * census found when it failed), so the table says how it failed, not only that it did.
 */
import { AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { MEMBER_LABELS } from "../../../operator/src/api/index.ts";
import type { World } from "../../e2e/support/world.ts";

/** CHAOS_SHORT=1: every scenario in its short variant (about a minute each; nats-server down past the 2-minute dedup window takes 4). */
export const SHORT = process.env.CHAOS_SHORT === "1";

/** A seed from CHAOS_SEED, else a fresh one. */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.CHAOS_SEED;
  if (given !== undefined && given !== "") {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`CHAOS_SEED: "${given}" is not a whole number between 0 and ${0xffffffff}`);
    return n;
  }
  return Math.floor(Math.random() * 0xffffffff);
}

/** mulberry32: a small deterministic generator, floats in [0, 1). */
export function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TableRow {
  scenario: string;
  seed: number;
  /** Seconds from the end of the fault (the member back, the link healed) until everything converged; undefined if it never did. */
  recoveredS: number | undefined;
  violations: number;
  lost: number;
  duplicates: number;
  /** "ok", or the first line of the failure. */
  result: string;
  /** Figures of the scenario (requests counted, toleration honoured...), printed under the table. */
  notes: string[];
}

const rows: TableRow[] = [];

export function tableRows(): readonly TableRow[] {
  return rows;
}

/** The table as text: one line per scenario, then the slowest recovery and each scenario's notes. */
export function renderTable(all: readonly TableRow[]): string {
  const head = ["scenario", "seed", "recovered in s", "residency violations", "lost pods", "duplicate pods or Deployments", "result"];
  const body = all.map((r) => [r.scenario, String(r.seed), r.recoveredS === undefined ? "-" : r.recoveredS.toFixed(1), String(r.violations), String(r.lost), String(r.duplicates), r.result]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const out = [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)];
  const recovered = all.filter((r) => r.recoveredS !== undefined);
  if (recovered.length) {
    const slowest = recovered.reduce((a, b) => (b.recoveredS! > a.recoveredS! ? b : a));
    out.push("", `slowest recovery: ${slowest.recoveredS!.toFixed(1)} s (${slowest.scenario})`);
  }
  const clean = all.every((r) => r.violations === 0 && r.lost === 0 && r.duplicates === 0 && r.result === "ok");
  out.push(clean ? "every scenario: 0 violations, 0 lost, 0 duplicates" : "NOT CLEAN: see the rows above");
  for (const r of all) for (const n of r.notes) out.push(`  ${r.scenario}: ${n}`);
  return out.join("\n");
}

// Registered once, on the root suite, by the first chaos file that imports this module:
// the table comes after every file's own after() (its cleanup and final audit).
if (typeof (globalThis as { after?: unknown }).after === "function") {
  after(function () {
    if (rows.length) process.stdout.write(`\nchaos scenarios${SHORT ? " (short variants)" : ""}:\n${renderTable(rows)}\n`);
  });
}

export interface Expectation {
  /** The workload's uid and where its pods must be, by member (absent: none there). */
  uid: string;
  name: string;
  want: Record<string, number>;
}

export interface CensusResult {
  lost: number;
  duplicates: number;
  /** What was found, member by member, for the failure message. */
  detail: string[];
}

/** Pods and Deployments of every member (bare ones too), by member, read for a census. */
export class Members {
  readonly #apis: Map<string, { core: CoreV1Api; apps: AppsV1Api }>;

  constructor(kubeconfigs: Record<string, string>) {
    this.#apis = new Map(Object.entries(kubeconfigs).map(([m, f]) => {
      const kc = new KubeConfig();
      kc.loadFromFile(f);
      return [m, { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) }];
    }));
  }

  static of(world: World): Members {
    const files: Record<string, string> = {};
    for (const m of world.env.members) if (world.env.memberKubeconfigs[m]) files[m] = world.env.memberKubeconfigs[m];
    return new Members(files);
  }

  /** Live (not being deleted) sovereign pods and Deployments on every member. */
  async list(): Promise<{ member: string; kind: "Pod" | "Deployment"; uid: string; workloadUid: string; running: boolean; replicas: number }[]> {
    const selector = { labelSelector: MEMBER_LABELS.workloadUid };
    const per = await Promise.all([...this.#apis].map(async ([member, api]) => {
      const [pods, deployments] = await Promise.all([api.core.listPodForAllNamespaces(selector), api.apps.listDeploymentForAllNamespaces(selector)]);
      return [
        ...pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => ({
          member, kind: "Pod" as const, uid: p.metadata!.uid!, workloadUid: p.metadata!.labels![MEMBER_LABELS.workloadUid]!,
          running: p.status?.phase === "Running", replicas: 1,
        })),
        ...deployments.items.filter((d) => !d.metadata?.deletionTimestamp).map((d) => ({
          member, kind: "Deployment" as const, uid: d.metadata!.uid!, workloadUid: d.metadata!.labels![MEMBER_LABELS.workloadUid]!,
          running: true, replicas: d.spec?.replicas ?? 1,
        })),
      ];
    }));
    return per.flat();
  }

  /**
   * Lost: a pod a workload should have Running that is not (per member), or a pod that
   * had to survive (`kept`) and is gone. Duplicate: a pod beyond what a member should
   * hold, a second Deployment of a workload on a member, a Deployment where the workload
   * has no replicas, or anything left of a deleted workload (`gone`).
   */
  async census(params: { expect: readonly Expectation[]; gone?: readonly { uid: string; name: string }[]; kept?: readonly string[] }): Promise<CensusResult> {
    const objects = await this.list();
    let lost = 0;
    let duplicates = 0;
    const detail: string[] = [];
    for (const e of params.expect) {
      const members = new Set([...Object.keys(e.want), ...objects.filter((o) => o.workloadUid === e.uid).map((o) => o.member)]);
      for (const m of members) {
        const want = e.want[m] ?? 0;
        const mine = objects.filter((o) => o.workloadUid === e.uid && o.member === m);
        const pods = mine.filter((o) => o.kind === "Pod");
        const running = pods.filter((o) => o.running).length;
        const deployments = mine.filter((o) => o.kind === "Deployment" && o.replicas > 0).length;
        const l = Math.max(0, want - running);
        const d = Math.max(0, pods.length - want) + Math.max(0, deployments - (want > 0 ? 1 : 0));
        lost += l;
        duplicates += d;
        if (l || d) detail.push(`${e.name} on ${m}: want ${want} Running, found ${running} Running of ${pods.length} pods and ${deployments} Deployments`);
      }
    }
    for (const g of params.gone ?? []) {
      const left = objects.filter((o) => o.workloadUid === g.uid && (o.kind === "Pod" || o.replicas > 0));
      duplicates += left.length;
      if (left.length) detail.push(`${g.name} (deleted) still has ${left.map((o) => `${o.kind} on ${o.member}`).join(", ")}`);
    }
    const alive = new Set(objects.map((o) => o.uid));
    const missing = (params.kept ?? []).filter((uid) => !alive.has(uid));
    lost += missing.length;
    if (missing.length) detail.push(`pods that had to survive are gone: ${missing.join(", ")}`);
    return { lost, duplicates, detail };
  }
}

/** One scenario's seed, its expectations for the census, and its row in the table. */
export class Scenario {
  readonly name: string;
  readonly seed: number;
  readonly random: () => number;
  readonly expectations = new Map<string, Expectation>();
  readonly gone = new Map<string, { uid: string; name: string }>();
  /** Pods (by uid) that must survive, by workload uid. */
  readonly kept = new Map<string, Set<string>>();
  readonly notes: string[] = [];
  recoveredS: number | undefined;

  constructor(params: { name: string; seed: number }) {
    this.name = params.name;
    this.seed = params.seed;
    this.random = randomFrom(params.seed);
  }

  /** A whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from nothing");
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  expect(e: Expectation): void {
    this.gone.delete(e.uid);
    this.expectations.set(e.uid, e);
  }

  /** The workload is deleted: nothing of it may be left (and its kept pods go with it). */
  expectGone(w: { uid: string; name: string }): void {
    this.expectations.delete(w.uid);
    this.kept.delete(w.uid);
    this.gone.set(w.uid, w);
  }

  /** Pods (by uid) of a workload that the fault must not take: a survivor that is gone counts as lost. */
  keep(workloadUid: string, podUids: readonly string[]): void {
    const set = this.kept.get(workloadUid) ?? new Set<string>();
    for (const u of podUids) set.add(u);
    this.kept.set(workloadUid, set);
  }

  /** Recovery measured from `sinceMs` to now; a scenario with several faults keeps the slowest. */
  recovered(sinceMs: number): number {
    const s = (Date.now() - sinceMs) / 1000;
    this.recoveredS = Math.max(this.recoveredS ?? 0, s);
    return s;
  }

  note(text: string): void {
    this.notes.push(text);
    process.stdout.write(`      [chaos] ${this.name}: ${text}\n`);
  }
}

/**
 * Runs one scenario: prints its seed, runs it, takes the census (even after a failure),
 * and adds its row to the table. Fails if the scenario failed, or if the census found
 * anything lost or duplicated, or the auditor any violation meanwhile.
 */
export async function runScenario(params: { name: string; world: World; members: Members }, body: (sc: Scenario) => Promise<void>): Promise<Scenario> {
  const sc = new Scenario({ name: params.name, seed: chaosSeed() });
  process.stdout.write(`      [chaos] ${sc.name}: seed ${sc.seed} (CHAOS_SEED=${sc.seed} repeats it)${SHORT ? ", short variant" : ""}\n`);
  const violationsBefore = params.world.auditor.violationCount;
  let failure: Error | undefined;
  try {
    await body(sc);
  } catch (err) {
    failure = err as Error;
  }
  let census: CensusResult;
  try {
    census = await params.members.census({ expect: [...sc.expectations.values()], gone: [...sc.gone.values()], kept: [...sc.kept.values()].flatMap((s) => [...s]) });
  } catch (err) {
    census = { lost: 0, duplicates: 0, detail: [`the census could not list the members: ${(err as Error).message}`] };
    failure ??= err as Error;
  }
  const violations = params.world.auditor.violationCount - violationsBefore;
  if (!failure && (census.lost || census.duplicates)) failure = new Error(`census after "${sc.name}": ${census.detail.join("; ")}`);
  if (!failure && violations) failure = new Error(`the residency auditor found ${violations} violation(s) during "${sc.name}" (see its lines above)`);
  rows.push({
    scenario: sc.name, seed: sc.seed, recoveredS: failure ? undefined : sc.recoveredS, violations, lost: census.lost, duplicates: census.duplicates,
    result: failure ? `FAILED: ${failure.message.split("\n")[0]!.slice(0, 100)}` : "ok", notes: [...sc.notes, ...census.detail],
  });
  if (failure) throw failure;
  return sc;
}

export interface Placed {
  uid: string;
  /** Replicas by member, as the host's status places them. */
  placed: Record<string, number>;
}

export function placedOf(w: SovereignWorkload): Record<string, number> {
  return Object.fromEntries((w.status?.placements ?? []).filter((p) => p.replicas > 0).map((p) => [p.cluster, p.replicas]));
}

/**
 * Waits until the workload is Ready with all its replicas placed (and none on `avoid`),
 * and exactly those pods Run on the members (not counting `ignorePodsOn`: a member whose
 * agent is away keeps its pods until it returns); records that as the census's expectation.
 */
export async function settle(params: {
  world: World; sc: Scenario; namespace: string; name: string; replicas: number;
  avoid?: readonly string[]; ignorePodsOn?: readonly string[]; timeoutMs?: number; what?: string;
}): Promise<Placed> {
  const { world, sc, namespace, name, replicas } = params;
  const avoid = new Set(params.avoid ?? []);
  const ignore = new Set(params.ignorePodsOn ?? []);
  const timeoutMs = params.timeoutMs ?? 120_000;
  const w = await world.untilStatus(namespace, name, `${params.what ?? "Ready"} with ${replicas} placed${avoid.size ? ` off ${[...avoid].join(",")}` : ""}`, (x) =>
    x.status?.readyReplicas === replicas
    && (x.status?.placements ?? []).reduce((n, p) => n + p.replicas, 0) === replicas
    && !(x.status?.placements ?? []).some((p) => p.replicas > 0 && avoid.has(p.cluster)), timeoutMs);
  const placed = placedOf(w);
  const uid = w.metadata.uid!;
  sc.expect({ uid, name, want: placed });
  const want = JSON.stringify(Object.entries(placed).filter(([m]) => !ignore.has(m)).sort());
  await world.until(`pods of ${namespace}/${name} Running as placed, ${JSON.stringify(placed)}${ignore.size ? ` (not counting ${[...ignore].join(",")})` : ""}`, async () => {
    const pods = (await world.podsOf(uid)).filter((p) => !ignore.has(p.member));
    const counts: Record<string, number> = {};
    for (const p of pods) counts[p.member] = (counts[p.member] ?? 0) + 1;
    return JSON.stringify(Object.entries(counts).sort()) === want && pods.every((p) => p.phase === "Running") ? counts : false;
  }, timeoutMs);
  return { uid, placed };
}

/** The Ready condition's last transition of a MemberCluster, in ms (when the host declared it NotReady, say). */
export function readySince(mc: MemberCluster): number {
  const c = mc.status?.conditions?.find((x) => x.type === "Ready");
  if (!c?.lastTransitionTime) throw new Error(`MemberCluster ${mc.metadata.name} has no Ready condition with a transition time`);
  return Date.parse(c.lastTransitionTime);
}
