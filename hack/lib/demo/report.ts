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
 * Where a workload stands. Unschedulable (Scheduled=False on the current generation) is
 * final for the demo: nothing will run, by design, and the table says why.
 */
export function workloadPhase(w: WorkloadObject): WorkloadPhase {
  const s = w.status;
  if (!s || (w.metadata.generation !== undefined && s.observedGeneration !== w.metadata.generation)) return "Pending";
  if (condition(s.conditions, "Scheduled")?.status === "False") return "Unschedulable";
  const ready = condition(s.conditions, "Ready")?.status === "True" || (desired(w) > 0 && (s.readyReplicas ?? 0) >= desired(w));
  return ready ? "Ready" : "Progressing";
}

/** Done waiting when no workload is Pending or Progressing. */
export function settled(workloads: WorkloadObject[]): boolean {
  return workloads.every((w) => ["Ready", "Unschedulable"].includes(workloadPhase(w)));
}

export function progressLine(w: WorkloadObject): string {
  const phase = workloadPhase(w);
  const ready = `${w.status?.readyReplicas ?? 0}/${desired(w)} ready`;
  const why = phase === "Unschedulable" ? `: ${condition(w.status?.conditions, "Scheduled")?.reason ?? "Unschedulable"}` : "";
  return `${workloadKey(w).padEnd(28)} ${ready.padEnd(12)} ${phase}${why}`;
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
