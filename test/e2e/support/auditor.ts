/**
 * The residency auditor of the end-to-end tests: it lists every pod on every member
 * cluster and checks each sovereign pod against the residency of its workload and the
 * facts the host declares for the member it runs on. Tests call `check(step)` after
 * every step (a single violation fails the test) and keep `watch()` running between
 * steps, so a pod that appears where it may not go and is gone again by the end of a
 * step is caught too.
 *
 * It is an independent oracle: it reads the API servers itself and judges with the
 * scheduler's filters on a one-cluster snapshot, never with the controller's state.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { MEMBER_LABELS, REQUIREMENT_ANNOTATIONS } from "../../../operator/src/api/index.ts";
import { clusterViewOf, placementRequestOf } from "../../../operator/src/scheduler/adapt.ts";
import { decide, Reason } from "../../../operator/src/scheduler/index.ts";

/** Reasons that mean "this cluster may not hold this data", whatever its health or room. */
const RESIDENCY_REASONS: ReadonlySet<string> = new Set([
  Reason.CountryNotAllowed, Reason.JurisdictionNotAllowed, Reason.MissingCertification, Reason.CertificationExpired,
  Reason.ExtraterritorialExposure, Reason.SelectorMismatch,
]);

export interface AuditedPod {
  member: string;
  namespace: string;
  name: string;
  uid: string;
  workloadUid: string;
  phase: string;
  createdAt: Date;
  annotations: Record<string, string>;
}

export interface Violation {
  member: string;
  pod: string;
  workload: string;
  why: string;
}

export interface AuditSnapshot {
  at: Date;
  pods: AuditedPod[];
  violations: Violation[];
  /** metadata.generation of every MemberCluster, ResidencyPolicy ("policy/<name>") and workload ("workload/<uid>") seen. */
  generations: Map<string, number>;
}

const GROUP = "sovereignty.eu";
const VERSION = "v1alpha1";

function kubeConfigOf(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/**
 * Residency reasons why `cluster` may not hold `workload`'s pods at `at` (empty: it may).
 * The cluster is judged as if Ready with unbounded room: availability is not residency.
 */
export function residencyReasons(params: { cluster: MemberCluster; workload: SovereignWorkload; policy: ResidencyPolicy | undefined; at: Date }): string[] {
  const view = { ...clusterViewOf({ cluster: params.cluster }), ready: true, free: undefined, taints: [] };
  delete (view as { free?: unknown }).free;
  const request = { ...placementRequestOf({ workload: params.workload, policy: params.policy }), replicas: 1, mode: "Divided" as const };
  delete (request as { maxClusters?: unknown }).maxClusters;
  delete (request as { minCountries?: unknown }).minCountries;
  const decision = decide({ clusters: [view], request, now: params.at.getTime() });
  return (decision.rejected[0]?.reasons ?? []).filter((r) => RESIDENCY_REASONS.has(r));
}

/** What the pod itself says it requires (the guard's view), checked against the host's facts for the member. */
export function annotationViolations(params: { cluster: MemberCluster; annotations: Record<string, string>; at: Date }): string[] {
  const r = params.cluster.spec.residency;
  const list = (key: string) => (params.annotations[key] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const out: string[] = [];
  const countries = list(REQUIREMENT_ANNOTATIONS.allowedCountries);
  if (countries.length && !countries.includes(r.country)) out.push(`country ${r.country} not in ${countries.join(",")}`);
  const jurisdictions = list(REQUIREMENT_ANNOTATIONS.allowedJurisdictions);
  if (jurisdictions.length && !jurisdictions.includes(r.jurisdiction)) out.push(`jurisdiction ${r.jurisdiction} not in ${jurisdictions.join(",")}`);
  const day = params.at.toISOString().slice(0, 10);
  for (const cert of list(REQUIREMENT_ANNOTATIONS.requiredCertifications)) {
    const held = (r.certifications ?? []).some((c) => c.name === cert && c.validUntil >= day);
    if (!held) out.push(`certification ${cert} not held and valid on ${day}`);
  }
  if (params.annotations[REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure] === "true" && (r.extraterritorialExposure?.length ?? 1) > 0) {
    out.push(`exposed to ${(r.extraterritorialExposure ?? ["undeclared law"]).join(",")}`);
  }
  return out;
}

export class ResidencyAuditor {
  readonly #host: CustomObjectsApi;
  readonly #members: Map<string, CoreV1Api>;
  readonly #steps: { step: string; pods: number; violations: number }[] = [];
  #watching: { stop: boolean; done: Promise<void>; violations: Violation[]; rounds: number } | undefined;

  constructor(params: { hostKubeconfig: string; memberKubeconfigs: Record<string, string> }) {
    this.#host = kubeConfigOf(params.hostKubeconfig).makeApiClient(CustomObjectsApi);
    this.#members = new Map(Object.entries(params.memberKubeconfigs).map(([m, f]) => [m, kubeConfigOf(f).makeApiClient(CoreV1Api)]));
  }

  /** Every sovereign pod on every member now, and what is wrong with any of them. */
  async snapshot(params: { at?: Date } = {}): Promise<AuditSnapshot> {
    const at = params.at ?? new Date();
    const [clusters, policies, workloads] = await Promise.all([
      this.#list<MemberCluster>("memberclusters"),
      this.#list<ResidencyPolicy>("residencypolicies"),
      this.#host.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: "sovereignworkloads" })
        .then((l) => (l as { items: SovereignWorkload[] }).items),
    ]);
    const clusterByName = new Map(clusters.map((c) => [c.metadata.name, c]));
    const workloadByUid = new Map(workloads.map((w) => [w.metadata.uid!, w]));
    const policyByName = new Map(policies.map((p) => [p.metadata.name, p]));
    const pods: AuditedPod[] = [];
    const violations: Violation[] = [];
    const generations = new Map<string, number>([
      ...clusters.map((c) => [c.metadata.name, c.metadata.generation ?? 0] as const),
      ...policies.map((p) => [`policy/${p.metadata.name}`, p.metadata.generation ?? 0] as const),
      ...workloads.map((w) => [`workload/${w.metadata.uid}`, w.metadata.generation ?? 0] as const),
    ]);
    await Promise.all([...this.#members].map(async ([member, core]) => {
      const list = await core.listPodForAllNamespaces({ labelSelector: MEMBER_LABELS.workloadUid });
      for (const p of list.items) {
        if (p.metadata?.deletionTimestamp) continue; // on its way out; kwok removes it at once
        const pod: AuditedPod = {
          member,
          namespace: p.metadata!.namespace!,
          name: p.metadata!.name!,
          uid: p.metadata!.uid!,
          workloadUid: p.metadata!.labels![MEMBER_LABELS.workloadUid]!,
          phase: p.status?.phase ?? "Unknown",
          createdAt: new Date(p.metadata!.creationTimestamp!),
          annotations: p.metadata?.annotations ?? {},
        };
        pods.push(pod);
        const cluster = clusterByName.get(member);
        const workload = workloadByUid.get(pod.workloadUid);
        const where = `${pod.namespace}/${pod.name}`;
        const label = workload ? `${workload.metadata.namespace}/${workload.metadata.name}` : `uid ${pod.workloadUid} (deleted)`;
        if (!cluster) {
          violations.push({ member, pod: where, workload: label, why: "runs on a member the host does not declare (no MemberCluster)" });
          continue;
        }
        for (const why of annotationViolations({ cluster, annotations: pod.annotations, at })) violations.push({ member, pod: where, workload: label, why });
        if (workload) {
          const policy = workload.spec.residencyPolicy ? policyByName.get(workload.spec.residencyPolicy) : undefined;
          if (workload.spec.residencyPolicy && !policy) continue; // nothing to judge against; the control plane places nothing
          for (const why of residencyReasons({ cluster, workload, policy, at })) violations.push({ member, pod: where, workload: label, why });
        }
      }
    }));
    return { at, pods, violations, generations };
  }

  /** Fails, listing every violation, unless none is found now. Records the step. */
  async check(step: string): Promise<AuditSnapshot> {
    const snap = await this.snapshot();
    this.#steps.push({ step, pods: snap.pods.length, violations: snap.violations.length });
    if (snap.violations.length) {
      throw new Error(`residency violated after "${step}":\n${snap.violations.map((v) => `  ${v.member}: pod ${v.pod} of ${v.workload}: ${v.why}`).join("\n")}`);
    }
    return snap;
  }

  /**
   * Audits continuously until `stopWatching()`. Between steps facts change on purpose (an
   * admin records a lapsed certification, a policy tightens): a pod created before such a
   * change may violate the new facts for as long as the control plane takes to remove it.
   * So a violation counts at once for a pod created after the last change of its cluster's,
   * a policy's or its workload's spec, and for any other pod once it outlives that change
   * by `graceMs` (the control plane must move non-compliant replicas at once).
   */
  watch(params: { intervalMs?: number; graceMs?: number } = {}): void {
    if (this.#watching) return;
    const graceMs = params.graceMs ?? 60_000;
    const state = { stop: false, done: Promise.resolve(), violations: [] as Violation[], rounds: 0 };
    const lastGeneration = new Map<string, number>();
    const changedAt = new Map<string, number>();
    const reported = new Set<string>();
    state.done = (async () => {
      while (!state.stop) {
        try {
          const snap = await this.snapshot();
          state.rounds++;
          for (const [key, generation] of snap.generations) {
            const before = lastGeneration.get(key);
            if (before !== undefined && before !== generation) changedAt.set(key, snap.at.getTime());
            lastGeneration.set(key, generation);
          }
          const podOf = new Map(snap.pods.map((p) => [`${p.member}/${p.namespace}/${p.name}`, p]));
          for (const v of snap.violations) {
            const pod = podOf.get(`${v.member}/${v.pod}`);
            if (!pod) continue;
            const keys = [v.member, `workload/${pod.workloadUid}`, ...[...changedAt.keys()].filter((k) => k.startsWith("policy/"))];
            const lastChange = Math.max(-Infinity, ...keys.map((k) => changedAt.get(k) ?? -Infinity));
            const transitional = pod.createdAt.getTime() < lastChange && snap.at.getTime() - lastChange < graceMs;
            const id = `${pod.uid}:${v.why}`;
            if (!transitional && !reported.has(id)) {
              reported.add(id);
              state.violations.push(v);
            }
          }
        } catch {
          // An API server being restarted by a test step: the next round sees it.
        }
        await new Promise((r) => setTimeout(r, params.intervalMs ?? 500));
      }
    })();
    this.#watching = state;
  }

  /** Stops the continuous audit; fails if it saw any violation, or never completed a round (it must have looked). */
  async stopWatching(): Promise<{ rounds: number }> {
    const state = this.#watching;
    if (!state) return { rounds: 0 };
    state.stop = true;
    await state.done;
    this.#watching = undefined;
    if (state.violations.length) {
      throw new Error(`residency violated while watching:\n${state.violations.map((v) => `  ${v.member}: pod ${v.pod} of ${v.workload}: ${v.why}`).join("\n")}`);
    }
    if (state.rounds === 0) throw new Error("the continuous residency audit never completed a round");
    return { rounds: state.rounds };
  }

  get steps(): readonly { step: string; pods: number; violations: number }[] {
    return this.#steps;
  }

  async #list<T>(plural: string): Promise<T[]> {
    const l = await this.#host.listClusterCustomObject({ group: GROUP, version: VERSION, plural });
    return (l as { items: T[] }).items;
  }
}
