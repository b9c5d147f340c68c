/**
 * What the demo prints from LIVE objects on the host: pure functions from the
 * SovereignWorkload and MemberCluster JSON (status fields of docs/API.md) to text, so
 * the layout is tested without a federation.
 */

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface WorkloadObject {
  metadata: { name: string; namespace?: string; generation?: number };
  spec: { replicas?: number; residencyPolicy?: string; residency?: unknown; placement?: { mode?: string } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    conditions?: Condition[];
    placements?: { cluster: string; country?: string; replicas?: number; readyReplicas?: number }[];
    rejectedClusters?: { cluster: string; reasons?: string[] }[];
  };
}

export interface MemberClusterObject {
  metadata: { name: string };
  spec: { residency?: { country?: string; provider?: string; extraterritorialExposure?: string[] } };
  status?: { conditions?: Condition[]; lastHeartbeatTime?: string; validCertifications?: string[] };
}

function condition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

export function workloadKey(w: WorkloadObject): string {
  return `${w.metadata.namespace ?? "default"}/${w.metadata.name}`;
}

/** Desired replicas in total: what the control plane placed, else what the spec asks. */
function desired(w: WorkloadObject): number {
  return w.status?.replicas ?? w.spec.replicas ?? 0;
}

export type WorkloadPhase = "Pending" | "Unschedulable" | "Progressing" | "Ready";

/**
 * Where a workload stands, from its status alone. Unschedulable is Scheduled=False on the
 * current generation; whether that is final is `waitedMembers`' question.
 */
export function workloadPhase(w: WorkloadObject): WorkloadPhase {
  const s = w.status;
  if (!s || (w.metadata.generation !== undefined && s.observedGeneration !== w.metadata.generation)) return "Pending";
  if (condition(s.conditions, "Scheduled")?.status === "False") return "Unschedulable";
  const ready = condition(s.conditions, "Ready")?.status === "True" || (desired(w) > 0 && (s.readyReplicas ?? 0) >= desired(w));
  return ready ? "Ready" : "Progressing";
}

/**
 * The scheduler's rejection reasons that say a cluster is not available yet, not that
 * it may not hold the data (operator/src/scheduler/core/reasons.ts).
 */
const READINESS_REASONS: ReadonlySet<string> = new Set(["NotReady"]);

/**
 * Agent members an unschedulable workload is waiting for: rejected for readiness alone,
 * so it could use them once they report. A member without an agent never reports here,
 * so a workload that only such a member could hold is as unschedulable as one whose
 * policy no member satisfies.
 */
export function waitedMembers(w: WorkloadObject, agentMembers: readonly string[]): string[] {
  if (workloadPhase(w) !== "Unschedulable") return [];
  return (w.status?.rejectedClusters ?? [])
    .filter((r) => agentMembers.includes(r.cluster) && (r.reasons ?? []).length > 0 && (r.reasons ?? []).every((x) => READINESS_REASONS.has(x)))
    .map((r) => r.cluster)
    .sort();
}

/**
 * Done waiting for this workload: Ready, or unschedulable for a reason no member of this
 * federation will change (its residency, or only members without an agent would do).
 */
export function workloadDone(w: WorkloadObject, agentMembers: readonly string[]): boolean {
  const phase = workloadPhase(w);
  return phase === "Ready" || (phase === "Unschedulable" && waitedMembers(w, agentMembers).length === 0);
}

/** Done waiting when there are workloads and every one of them is done. */
export function settled(workloads: readonly WorkloadObject[], agentMembers: readonly string[]): boolean {
  return workloads.length > 0 && workloads.every((w) => workloadDone(w, agentMembers));
}

export function progressLine(w: WorkloadObject, agentMembers: readonly string[] = []): string {
  const phase = workloadPhase(w);
  const ready = `${w.status?.readyReplicas ?? 0}/${desired(w)} ready`;
  const waited = waitedMembers(w, agentMembers);
  const why = phase !== "Unschedulable" ? ""
    : waited.length ? `: ${unschedulableReason(w)}, waiting for ${waited.join(", ")} to be Ready`
    : `: ${unschedulableReason(w)}`;
  return `${workloadKey(w).padEnd(28)} ${ready.padEnd(12)} ${phase}${why}`;
}

function unschedulableReason(w: WorkloadObject): string {
  return condition(w.status?.conditions, "Scheduled")?.reason ?? "Unschedulable";
}

/**
 * The one line that ends the wait for pods: what happened, never more. `settledAfterS`
 * is set only when `settled` held; otherwise the wait ran out after `waitedS`.
 */
export function waitSummary(p: { workloads: readonly WorkloadObject[]; agentMembers: readonly string[]; waitedS: number; settledAfterS?: number }): string {
  const { workloads, agentMembers } = p;
  if (workloads.length === 0) return `no SovereignWorkload on the host after ${p.waitedS.toFixed(0)}s: nothing to wait for`;
  const ready = workloads.filter((w) => workloadPhase(w) === "Ready");
  const refused = workloads.filter((w) => workloadPhase(w) === "Unschedulable" && workloadDone(w, agentMembers));
  const open = workloads.filter((w) => !workloadDone(w, agentMembers));
  const refusedText = refused.length
    ? `, ${refused.length} cannot be placed in this federation (${refused.map((w) => `${workloadKey(w)}: ${unschedulableReason(w)}`).join("; ")})`
    : "";
  if (p.settledAfterS !== undefined && open.length === 0) {
    return `${ready.length} of ${workloads.length} workloads Ready after ${p.settledAfterS.toFixed(0)}s${refusedText}`;
  }
  const openText = open.map((w) => {
    const waited = waitedMembers(w, agentMembers);
    return `${workloadKey(w)} ${workloadPhase(w)}${waited.length ? ` (waits for ${waited.join(", ")})` : ` (${w.status?.readyReplicas ?? 0}/${desired(w)} ready)`}`;
  });
  return `NOT settled after ${p.waitedS.toFixed(0)}s: ${ready.length} of ${workloads.length} workloads Ready${refusedText}; still waiting for ${openText.join(", ")}`;
}

/** An agent member's readiness as the host's MemberCluster says it. */
export function memberReadiness(clusters: readonly MemberClusterObject[], agentMembers: readonly string[]): { ready: string[]; waiting: { name: string; why: string }[] } {
  const ready: string[] = [];
  const waiting: { name: string; why: string }[] = [];
  for (const name of [...agentMembers].sort()) {
    const c = clusters.find((x) => x.metadata.name === name);
    const cond = condition(c?.status?.conditions, "Ready");
    if (cond?.status === "True") ready.push(name);
    else waiting.push({ name, why: !c ? "no MemberCluster on the host" : cond ? (cond.reason ?? "NotReady") : "no heartbeat yet" });
  }
  return { ready, waiting };
}

/** The progress line of the wait for members, naming those still waited for. */
export function memberWaitLine(p: { clusters: readonly MemberClusterObject[]; agentMembers: readonly string[]; elapsedS: number }): string {
  const { ready, waiting } = memberReadiness(p.clusters, p.agentMembers);
  const head = `${p.elapsedS.toFixed(0)}s: ${ready.length}/${p.agentMembers.length} agent members Ready`;
  return waiting.length ? `${head}; waiting for ${waiting.map((w) => `${w.name} (${w.why})`).join(", ")}` : head;
}

function dataClass(w: WorkloadObject): string {
  const policy = w.spec.residencyPolicy ?? "(none)";
  return w.spec.residency ? `${policy} + inline` : policy;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd());
}

/** One row per placement; an unplaced workload gets one row with the Scheduled condition's reason; rejected clusters below. */
export function placementTable(workloads: WorkloadObject[]): string {
  const rows: string[][] = [["WORKLOAD", "DATA CLASS", "CLUSTER", "COUNTRY", "READY/DESIRED"]];
  const notes: Map<number, string> = new Map();
  for (const w of [...workloads].sort((a, b) => workloadKey(a).localeCompare(workloadKey(b)))) {
    const placements = w.status?.placements ?? [];
    if (placements.length === 0) {
      const sched = condition(w.status?.conditions, "Scheduled");
      const why = sched?.status === "False" ? `not placed: ${sched.reason ?? "Unschedulable"}` : "not placed yet";
      rows.push([workloadKey(w), dataClass(w), "-", "-", `0/${desired(w)} (${why})`]);
    }
    for (const [i, p] of placements.entries()) {
      rows.push([i === 0 ? workloadKey(w) : "", i === 0 ? dataClass(w) : "", p.cluster, p.country ?? "?", `${p.readyReplicas ?? 0}/${p.replicas ?? 0}`]);
    }
    const rejected = w.status?.rejectedClusters ?? [];
    // One rejected cluster per line: the reasons of five clusters on one line do not read.
    if (rejected.length) notes.set(rows.length - 1, rejected.map((r, i) => `    ${i === 0 ? "rejected:" : "         "} ${r.cluster} (${(r.reasons ?? []).join(", ")})`).join("\n"));
  }
  const lines = table(rows);
  return lines.flatMap((l, i) => (notes.has(i) ? [l, notes.get(i)!] : [l])).join("\n");
}

/** Each MemberCluster, Ready or not, and why (the Ready condition's reason and message). */
export function clusterTable(clusters: MemberClusterObject[]): string {
  const rows: string[][] = [["CLUSTER", "COUNTRY", "PROVIDER", "READY", "WHY"]];
  for (const c of [...clusters].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const ready = condition(c.status?.conditions, "Ready");
    const why = ready ? [ready.reason, ready.message].filter(Boolean).join(": ") : "no status yet (nothing has reported for it)";
    rows.push([c.metadata.name, c.spec.residency?.country ?? "?", c.spec.residency?.provider ?? "", ready?.status === "True" ? "Ready" : "NotReady", why]);
  }
  return table(rows).join("\n");
}
