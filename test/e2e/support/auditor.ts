/**
 * The residency auditor of the end-to-end tests. It reads every member's API server itself
 * (bare members too), lists the pods AND the Deployments there, and judges each sovereign
 * one (workload-uid label, or residency annotations) against the facts the host declares,
 * with its own reading of docs/API.md (./residency.ts): it never asks the operator, and
 * shares no code with the operator's scheduler.
 *
 * World.ready() starts `watch()` before a file's first step; the file's last step is
 * `world.finish()` (or `stopWatching()`), which fails on any violation seen meanwhile.
 * `check(step)` after a step also fails on what the watcher saw so far, so a violation is
 * reported before the cleanup of `after()` runs. A member that cannot be listed for more
 * than `unreachableMs` in a row fails the test too, unless the scenario said it took that
 * member down (`expectDown`); after `expectUp` it must come back and is audited again.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { MEMBER_LABELS } from "../../../operator/src/api/index.ts";
import { breachCounts, DEFAULT_GRACE_MS, FactChanges, factKeys } from "./grace.ts";
import { annotationBreaches, hasRequirementAnnotations, workloadBreaches, type Breach } from "./residency.ts";

export interface AuditedObject {
  kind: "Pod" | "Deployment";
  member: string;
  namespace: string;
  name: string;
  uid: string;
  /** The workload-uid label; undefined for an object marked sovereign only by its annotations. */
  workloadUid: string | undefined;
  createdAt: Date;
  /** The pod's annotations, or the Deployment's pod template's. */
  annotations: Record<string, string>;
  /** Pods: status.phase. */
  phase?: string;
  /** Deployments: spec.replicas. */
  replicas?: number;
}

/** A pod, as earlier versions of the auditor reported it (workloadUid always set). */
export interface AuditedPod extends AuditedObject {
  kind: "Pod";
  workloadUid: string;
  phase: string;
}

export interface Violation {
  member: string;
  /** "Pod ns/name" or "Deployment ns/name". */
  object: string;
  /** Kept for older callers: the same as `object`. */
  pod: string;
  workload: string;
  code: string;
  why: string;
}

export interface AuditSnapshot {
  at: Date;
  /** Sovereign pods (with the workload-uid label) on every member that answered. */
  pods: AuditedPod[];
  /** Every sovereign object judged: pods, and Deployments that ask for replicas. */
  objects: AuditedObject[];
  /** Breaches that count now (see ./grace.ts). */
  violations: Violation[];
  /** Breaches still within their grace, for the record. */
  transitional: Violation[];
  /** Violations planted on purpose (see plant()): seen, and not counted. */
  planted: Violation[];
  /** Members (and "host") that could not be listed in this round, with the error. */
  unreachable: Map<string, string>;
  /** metadata.generation of every fact: "cluster/<name>", "policy/<name>", "workload/<uid>". */
  generations: Map<string, number>;
}

const GROUP = "sovereignty.eu";
const VERSION = "v1alpha1";
export const HOST = "host";
const REQUEST_TIMEOUT_MS = 5_000;

function kubeConfigOf(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** A request that hangs (an API server stopped with SIGSTOP, a black-holed port) is a failure, not a stall. */
async function within<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: string; cause?: { code?: string } };
  return [e.code, e.cause?.code, e.message?.split("\n")[0]?.slice(0, 200)].filter(Boolean).join(" ");
}

function violationId(v: Violation): string {
  return `${v.object}@${v.member}:${v.why}`;
}

function render(v: Violation): string {
  return `  ${v.member}: ${v.object} of ${v.workload}: ${v.why}`;
}

interface Facts {
  clusters: Map<string, MemberCluster>;
  policies: Map<string, ResidencyPolicy>;
  workloads: Map<string, SovereignWorkload>;
  generations: Map<string, number>;
}

interface Member {
  core: CoreV1Api;
  apps: AppsV1Api;
}

interface Reachability {
  /** When listing started to fail, in a row; undefined while it answers. */
  failingSince: number | undefined;
  lastError: string;
  /** An outage already recorded as a problem (reported once). */
  reported: boolean;
  /** Successful listings since the audit (or the last expectUp) began. */
  listed: number;
}

interface Watching {
  stop: boolean;
  done: Promise<void>;
  rounds: number;
  timer: NodeJS.Timeout | undefined;
  wake: (() => void) | undefined;
}

export class ResidencyAuditor {
  readonly #host: CustomObjectsApi;
  readonly #members: Map<string, Member>;
  readonly #steps: { step: string; pods: number; violations: number }[] = [];
  readonly #graceMs: number;
  readonly #intervalMs: number;
  readonly #unreachableMs: number;
  readonly #expectedDown = new Set<string>();
  readonly #reach = new Map<string, Reachability>();
  #changes = new FactChanges();
  /** Problems found by the watcher (violations and outages), and which of them a check or finish already surfaced. */
  #problems: string[] = [];
  #surfaced = 0;
  #seen = new Set<string>();
  /** Every distinct violation (object, member, why) found since the auditor was made, by the watcher or a check. */
  readonly #violations = new Set<string>();
  #watching: Watching | undefined;
  /** Violations a scenario plants on purpose (positive controls), by "member/Kind ns/name": how often they were seen. */
  readonly #planted = new Map<string, number>();

  constructor(params: { hostKubeconfig: string; memberKubeconfigs: Record<string, string>; graceMs?: number; intervalMs?: number; unreachableMs?: number }) {
    this.#host = kubeConfigOf(params.hostKubeconfig).makeApiClient(CustomObjectsApi);
    this.#members = new Map(Object.entries(params.memberKubeconfigs).map(([m, f]) => {
      const kc = kubeConfigOf(f);
      return [m, { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) }];
    }));
    this.#graceMs = params.graceMs ?? DEFAULT_GRACE_MS;
    this.#intervalMs = params.intervalMs ?? 500;
    this.#unreachableMs = params.unreachableMs ?? 10_000;
    for (const m of [HOST, ...this.#members.keys()]) this.#reach.set(m, { failingSince: undefined, lastError: "", reported: false, listed: 0 });
  }

  /** The members audited (every member of the federation, bare ones included). */
  get members(): string[] {
    return [...this.#members.keys()];
  }

  /**
   * The scenario takes these members' API servers down on purpose (HOST for the host's):
   * failing to list them is expected until `expectUp`.
   */
  expectDown(...members: string[]): void {
    for (const m of members) {
      this.#known(m);
      this.#expectedDown.add(m);
    }
  }

  /** They are back: each must be listed again within `unreachableMs` from now, and is audited again. */
  expectUp(...members: string[]): void {
    const now = Date.now();
    for (const m of members) {
      const r = this.#known(m);
      this.#expectedDown.delete(m);
      r.reported = false;
      r.listed = 0;
      if (r.failingSince !== undefined) r.failingSince = now;
    }
  }

  /**
   * A violation the scenario creates on purpose, to show the audit sees it (a positive
   * control): it is counted (`timesSeen`) instead of failing the test.
   */
  plant(params: { member: string; kind: "Pod" | "Deployment"; namespace: string; name: string }): void {
    this.#planted.set(`${params.member}/${params.kind} ${params.namespace}/${params.name}`, 0);
  }

  /** How many times (rounds and checks) a planted violation was seen. */
  timesSeen(params: { member: string; kind: "Pod" | "Deployment"; namespace: string; name: string }): number {
    return this.#planted.get(`${params.member}/${params.kind} ${params.namespace}/${params.name}`) ?? 0;
  }

  /** Every sovereign object on every member now, judged with the fact changes the watcher saw (none: everything counts at once). */
  async snapshot(params: { at?: Date } = {}): Promise<AuditSnapshot> {
    return this.#round({ at: params.at ?? new Date(), changes: this.#watching ? this.#changes : new FactChanges() });
  }

  /**
   * Fails, listing every violation, unless none is found now and the watcher saw none
   * since the last check. A member that does not answer (and is not expected down) is
   * asked again for up to `unreachableMs` before that fails too. Records the step.
   */
  async check(step: string): Promise<AuditSnapshot> {
    const deadline = Date.now() + this.#unreachableMs;
    let snap = await this.snapshot();
    while ([...snap.unreachable.keys()].some((m) => !this.#expectedDown.has(m)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      snap = await this.snapshot();
    }
    this.#steps.push({ step, pods: snap.pods.length, violations: snap.violations.length });
    for (const v of snap.violations) this.#violations.add(violationId(v));
    const lines: string[] = [];
    if (snap.violations.length) lines.push(`residency violated after "${step}":`, ...snap.violations.map(render));
    const down = [...snap.unreachable].filter(([m]) => !this.#expectedDown.has(m));
    if (down.length) lines.push(`could not audit after "${step}" (not declared down): ${down.map(([m, e]) => `${m}: ${e}`).join("; ")}`);
    const watched = this.#takeProblems();
    if (watched.length) lines.push("seen by the continuous audit:", ...watched);
    if (lines.length) throw new Error(lines.join("\n"));
    return snap;
  }

  /**
   * Audits continuously until `stopWatching()`, every `intervalMs`. A breach counts as a
   * violation as ./grace.ts says (the grace after an admin changes facts).
   */
  watch(params: { intervalMs?: number; graceMs?: number } = {}): void {
    if (this.#watching) return;
    const intervalMs = params.intervalMs ?? this.#intervalMs;
    const graceMs = params.graceMs ?? this.#graceMs;
    this.#changes = new FactChanges();
    this.#seen = new Set();
    for (const r of this.#reach.values()) Object.assign(r, { failingSince: undefined, reported: false, listed: 0 });
    const state: Watching = { stop: false, done: Promise.resolve(), rounds: 0, timer: undefined, wake: undefined };
    state.done = (async () => {
      while (!state.stop) {
        await this.#watchRound({ graceMs });
        state.rounds++;
        if (state.stop) break;
        // Unref'd: a program that forgot to stop the audit can still exit.
        await new Promise<void>((resolve) => {
          state.wake = resolve;
          state.timer = setTimeout(resolve, intervalMs);
          state.timer.unref();
        });
      }
    })();
    this.#watching = state;
  }

  /** Problems the watcher has recorded and no check has reported yet (for a report before cleanup). */
  pendingProblems(): string[] {
    return this.#problems.slice(this.#surfaced);
  }

  /**
   * Stops the continuous audit after one last round in which every member not declared
   * down must answer (within `unreachableMs`). Fails if it saw any violation or outage
   * not yet reported, if it never completed a round, or if a member was never listed.
   */
  async stopWatching(): Promise<{ rounds: number }> {
    const state = this.#watching;
    if (!state) return { rounds: 0 };
    state.stop = true;
    clearTimeout(state.timer);
    state.wake?.();
    await state.done;
    const deadline = Date.now() + this.#unreachableMs;
    for (;;) {
      await this.#watchRound({ graceMs: this.#graceMs });
      state.rounds++;
      const missing = this.#unlisted();
      if (missing.length === 0 || Date.now() >= deadline) {
        for (const m of missing) this.#problems.push(`${m} was never listed while it was expected up (last error: ${this.#reach.get(m)!.lastError || "none"})`);
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    this.#watching = undefined;
    const problems = this.#takeProblems();
    if (problems.length) throw new Error(`the continuous residency audit failed:\n${problems.join("\n")}`);
    return { rounds: state.rounds };
  }

  /**
   * How many distinct violations (object, member, reason) the watcher and the checks have
   * found since this auditor was made; a scenario's table row reads it (planted ones are not counted).
   */
  get violationCount(): number {
    return this.#violations.size;
  }

  get steps(): readonly { step: string; pods: number; violations: number }[] {
    return this.#steps;
  }

  #known(member: string): Reachability {
    const r = this.#reach.get(member);
    if (!r) throw new Error(`the auditor does not audit "${member}"; it audits ${[HOST, ...this.#members.keys()].join(", ")}`);
    return r;
  }

  #unlisted(): string[] {
    return [...this.#reach].filter(([m, r]) => !this.#expectedDown.has(m) && r.listed === 0).map(([m]) => m);
  }

  #takeProblems(): string[] {
    const out = this.#problems.slice(this.#surfaced);
    this.#surfaced = this.#problems.length;
    return out;
  }

  #record(problem: string): void {
    this.#problems.push(problem);
    // Said at once on stderr too: a hook that hangs or throws later cannot hide it.
    process.stderr.write(`[residency auditor] ${problem}\n`);
  }

  async #watchRound(params: { graceMs: number }): Promise<void> {
    const snap = await this.#round({ at: new Date(), changes: this.#changes, graceMs: params.graceMs });
    const now = snap.at.getTime();
    for (const [m, r] of this.#reach) {
      const error = snap.unreachable.get(m);
      if (error === undefined) {
        r.failingSince = undefined;
        r.listed++;
        continue;
      }
      r.lastError = error;
      r.failingSince ??= now;
      if (!this.#expectedDown.has(m) && !r.reported && now - r.failingSince > this.#unreachableMs) {
        r.reported = true;
        this.#record(`${m} could not be listed for ${Math.round((now - r.failingSince) / 1000)} s in a row and was not declared down: ${error}`);
      }
    }
    for (const v of snap.violations) {
      const id = violationId(v);
      this.#violations.add(id);
      if (this.#seen.has(id)) continue;
      this.#seen.add(id);
      this.#record(`residency violated at ${snap.at.toISOString()}:\n${render(v)}`);
    }
  }

  async #facts(): Promise<Facts> {
    const list = async <T>(plural: string) =>
      ((await within(`host ${plural}`, this.#host.listClusterCustomObject({ group: GROUP, version: VERSION, plural }))) as { items: T[] }).items;
    const [clusters, policies, workloads] = await Promise.all([
      list<MemberCluster>("memberclusters"),
      list<ResidencyPolicy>("residencypolicies"),
      within("host sovereignworkloads", this.#host.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: "sovereignworkloads" }))
        .then((l) => (l as { items: SovereignWorkload[] }).items),
    ]);
    return {
      clusters: new Map(clusters.map((c) => [c.metadata.name, c])),
      policies: new Map(policies.map((p) => [p.metadata.name, p])),
      workloads: new Map(workloads.map((w) => [w.metadata.uid!, w])),
      generations: new Map<string, number>([
        ...clusters.map((c) => [`cluster/${c.metadata.name}`, c.metadata.generation ?? 0] as const),
        ...policies.map((p) => [`policy/${p.metadata.name}`, p.metadata.generation ?? 0] as const),
        ...workloads.map((w) => [`workload/${w.metadata.uid}`, w.metadata.generation ?? 0] as const),
      ]),
    };
  }

  async #objectsOn(member: string, api: Member): Promise<AuditedObject[]> {
    const [pods, deployments] = await Promise.all([
      within(`${member} pods`, api.core.listPodForAllNamespaces()),
      within(`${member} deployments`, api.apps.listDeploymentForAllNamespaces()),
    ]);
    const out: AuditedObject[] = [];
    for (const p of pods.items) {
      const meta = p.metadata!;
      const annotations = meta.annotations ?? {};
      const workloadUid = meta.labels?.[MEMBER_LABELS.workloadUid];
      // On its way out (kwok removes it at once); a replica that is leaving is not placed.
      if (meta.deletionTimestamp || (workloadUid === undefined && !hasRequirementAnnotations(annotations))) continue;
      out.push({
        kind: "Pod", member, namespace: meta.namespace!, name: meta.name!, uid: meta.uid!, workloadUid,
        createdAt: new Date(meta.creationTimestamp!), annotations, phase: p.status?.phase ?? "Unknown",
      });
    }
    for (const d of deployments.items) {
      const meta = d.metadata!;
      const annotations = d.spec?.template?.metadata?.annotations ?? {};
      const workloadUid = meta.labels?.[MEMBER_LABELS.workloadUid];
      const replicas = d.spec?.replicas ?? 1;
      // A Deployment scaled to zero holds no data; one that asks for replicas does, even if a guard refuses its pods.
      if (meta.deletionTimestamp || replicas === 0 || (workloadUid === undefined && !hasRequirementAnnotations(annotations))) continue;
      out.push({
        kind: "Deployment", member, namespace: meta.namespace!, name: meta.name!, uid: meta.uid!, workloadUid,
        createdAt: new Date(meta.creationTimestamp!), annotations, replicas,
      });
    }
    return out;
  }

  async #round(params: { at: Date; changes: FactChanges; graceMs?: number }): Promise<AuditSnapshot> {
    const { at, changes } = params;
    const graceMs = params.graceMs ?? this.#graceMs;
    const unreachable = new Map<string, string>();
    const [facts, ...perMember] = await Promise.all([
      this.#facts().catch((err: unknown) => {
        unreachable.set(HOST, describeError(err));
        return undefined;
      }),
      ...[...this.#members].map(([member, api]) => this.#objectsOn(member, api).catch((err: unknown) => {
        unreachable.set(member, describeError(err));
        return [] as AuditedObject[];
      })),
    ]);
    const objects = perMember.flat();
    const pods = objects.filter((o): o is AuditedPod => o.kind === "Pod" && o.workloadUid !== undefined);
    const snap: AuditSnapshot = { at, pods, objects, violations: [], transitional: [], planted: [], unreachable, generations: facts?.generations ?? new Map() };
    // Without the host's facts there is nothing to judge by (and no change to see): the round only checked reachability.
    if (!facts) return snap;
    changes.observe(facts.generations, at.getTime());
    for (const o of objects) {
      const workload = o.workloadUid === undefined ? undefined : facts.workloads.get(o.workloadUid);
      const label = workload
        ? `${workload.metadata.namespace}/${workload.metadata.name}`
        : o.workloadUid === undefined ? "no workload (residency annotations only)" : `uid ${o.workloadUid} (deleted)`;
      const policyName = workload?.spec.residencyPolicy;
      const cluster = facts.clusters.get(o.member);
      const breaches: Breach[] = [];
      if (!cluster) {
        breaches.push({ code: "NoMemberCluster", why: "runs on a member the host does not declare (no MemberCluster)", afterMs: 0 });
      } else {
        breaches.push(...annotationBreaches({ cluster, annotations: o.annotations, at }));
        // A workload naming a policy that is absent: the control plane places nothing, and there is nothing to judge it by.
        const policy = policyName === undefined ? undefined : facts.policies.get(policyName);
        if (workload && (policyName === undefined || policy)) breaches.push(...workloadBreaches({ cluster, workload, policy, at }));
      }
      if (breaches.length === 0) continue;
      const lastChange = changes.lastChange(factKeys({ member: o.member, workloadUid: o.workloadUid ?? "", policy: policyName }));
      const where = `${o.kind} ${o.namespace}/${o.name}`;
      for (const b of breaches) {
        const v: Violation = { member: o.member, object: where, pod: where, workload: label, code: b.code, why: b.why };
        const counts = breachCounts({ createdAt: o.createdAt.getTime(), at: at.getTime(), lastChange, afterMs: b.afterMs, graceMs });
        const planted = `${o.member}/${where}`;
        if (counts && this.#planted.has(planted)) {
          this.#planted.set(planted, this.#planted.get(planted)! + 1);
          snap.planted.push(v);
          continue;
        }
        (counts ? snap.violations : snap.transitional).push(v);
      }
    }
    return snap;
  }
}
