/**
 * The e2e auditor's own reading of docs/API.md ("Scheduling semantics"): may this member
 * hold this workload's data? Written from the contract, not from the operator: it shares
 * no code with operator/src/scheduler/ (only the API types and the label/annotation
 * names of operator/src/api/), so a bug there cannot hide itself here.
 *
 * Availability is not residency: readiness, room and NoSchedule taints are not judged
 * (a replica may stay on a NotReady or full member). A NoExecute taint is: it says the
 * replicas must leave, after the toleration's `tolerationSeconds` if one allows it.
 */
import type { LabelSelector, MemberCluster, ResidencyConstraints, ResidencyPolicy, SovereignWorkload, Taint, Toleration } from "../../../operator/src/api/index.ts";
import { REQUIREMENT_ANNOTATIONS } from "../../../operator/src/api/index.ts";

/** One reason a member may not hold a replica. `afterMs` > 0: only once it has held it that long (a NoExecute toleration's seconds). */
export interface Breach {
  /** The API.md reason it amounts to (CountryNotAllowed, ..., Tainted), or NoMemberCluster. */
  code: string;
  why: string;
  afterMs: number;
}

/** The UTC day of `at`: a certification counts up to and including its validUntil day. */
function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function validCertifications(cluster: MemberCluster, at: Date): Map<string, string> {
  const day = dayOf(at);
  const out = new Map<string, string>();
  for (const c of cluster.spec.residency.certifications ?? []) if (c.validUntil >= day) out.set(c.name, c.version ?? "");
  return out;
}

/** Declared exposure; a MemberCluster that does not declare any (no list at all) is read as exposed, never as safe. */
function exposure(cluster: MemberCluster): string[] | undefined {
  const declared = (cluster.spec.residency as { extraterritorialExposure?: unknown }).extraterritorialExposure;
  return Array.isArray(declared) ? (declared as string[]) : undefined;
}

/**
 * The labels a selector sees: the MemberCluster's own, with the residency mirror labels
 * API.md promises recomputed from the facts (so a mirror not yet rewritten is not trusted).
 */
export function labelsOf(cluster: MemberCluster, at: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cluster.metadata.labels ?? {})) {
    if (k.startsWith("residency.sovereignty.eu/") || k.startsWith("certification.sovereignty.eu/")) continue;
    out[k] = v;
  }
  const r = cluster.spec.residency;
  out["residency.sovereignty.eu/country"] = r.country;
  out["residency.sovereignty.eu/jurisdiction"] = r.jurisdiction;
  out["residency.sovereignty.eu/extraterritorial-exposure"] = (exposure(cluster)?.length ?? 1) > 0 ? "exposed" : "none";
  for (const [name, version] of validCertifications(cluster, at)) out[`certification.sovereignty.eu/${name.toLowerCase()}`] = version;
  return out;
}

/** metav1.LabelSelector semantics; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In": if (!has || !values.includes(labels[e.key]!)) return false; break;
      case "NotIn": if (has && values.includes(labels[e.key]!)) return false; break;
      case "Exists": if (!has) return false; break;
      case "DoesNotExist": if (has) return false; break;
      default: return false; // an operator we do not know matches nothing: never looser than asked
    }
  }
  return true;
}

/** One set of constraints (a policy's spec, or a workload's inline residency) against one member. */
export function constraintBreaches(params: { cluster: MemberCluster; constraints: ResidencyConstraints; source: string; at: Date }): Breach[] {
  const { cluster, constraints: c, source, at } = params;
  const r = cluster.spec.residency;
  const out: Breach[] = [];
  const add = (code: string, why: string) => out.push({ code, why, afterMs: 0 });
  if (c.allowedCountries?.length && !c.allowedCountries.includes(r.country)) add("CountryNotAllowed", `country ${r.country} not allowed by ${source} (${c.allowedCountries.join(",")})`);
  if (c.allowedJurisdictions?.length && !c.allowedJurisdictions.includes(r.jurisdiction)) {
    add("JurisdictionNotAllowed", `jurisdiction ${r.jurisdiction} not allowed by ${source} (${c.allowedJurisdictions.join(",")})`);
  }
  const valid = validCertifications(cluster, at);
  for (const name of c.requiredCertifications ?? []) {
    if (valid.has(name)) continue;
    const held = (r.certifications ?? []).find((x) => x.name === name);
    if (held) add("CertificationExpired", `certification ${name} required by ${source} expired on ${held.validUntil}`);
    else add("MissingCertification", `certification ${name} required by ${source} not held`);
  }
  if (c.forbidExtraterritorialExposure === true) {
    const e = exposure(cluster);
    if (e === undefined || e.length > 0) add("ExtraterritorialExposure", `exposed to ${(e ?? ["undeclared law"]).join(",")}, forbidden by ${source}`);
  }
  if (c.clusterSelector && !selectorMatches(c.clusterSelector, labelsOf(cluster, at))) add("SelectorMismatch", `does not match the cluster selector of ${source}`);
  return out;
}

/** core/v1 toleration matching (a toleration with no effect matches every effect; an empty key with Exists every key). */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  const operator = toleration.operator ?? "Equal";
  if (!toleration.key) return operator === "Exists";
  if (toleration.key !== taint.key) return false;
  return operator === "Exists" || (operator === "Equal" && (toleration.value ?? "") === (taint.value ?? ""));
}

/** NoExecute taints of the member the tolerations do not cover (for good, or for tolerationSeconds). */
export function taintBreaches(params: { cluster: MemberCluster; tolerations: readonly Toleration[] }): Breach[] {
  const out: Breach[] = [];
  for (const taint of params.cluster.spec.taints ?? []) {
    if (taint.effect !== "NoExecute") continue;
    const matching = params.tolerations.filter((t) => toleratesTaint(t, taint));
    const what = `NoExecute taint ${taint.key}${taint.value ? `=${taint.value}` : ""}`;
    if (matching.length === 0) {
      out.push({ code: "Tainted", why: `${what} not tolerated`, afterMs: 0 });
      continue;
    }
    // Like the kubelet's taint manager: tolerated for ever if any toleration has no bound, else for the longest bound.
    if (matching.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)) continue;
    const seconds = Math.max(0, ...matching.map((t) => t.tolerationSeconds!));
    out.push({ code: "Tainted", why: `${what} tolerated for ${seconds} s only`, afterMs: seconds * 1000 });
  }
  return out;
}

/**
 * Why `cluster` may not hold a replica of `workload` at `at` (empty: it may). The policy
 * and the inline constraints both apply. `policy` undefined while the workload names one:
 * nothing to judge the policy by (the caller reports that the control plane places nothing).
 */
export function workloadBreaches(params: { cluster: MemberCluster; workload: SovereignWorkload; policy: ResidencyPolicy | undefined; at: Date }): Breach[] {
  const { cluster, workload, policy, at } = params;
  const out: Breach[] = [];
  if (policy) out.push(...constraintBreaches({ cluster, constraints: policy.spec, source: `policy ${policy.metadata.name}`, at }));
  if (workload.spec.residency) out.push(...constraintBreaches({ cluster, constraints: workload.spec.residency, source: "the workload's inline residency", at }));
  out.push(...taintBreaches({ cluster, tolerations: workload.spec.template?.spec?.tolerations ?? [] }));
  return out;
}

/** What a pod (or a Deployment's pod template) says it requires, as the member's guard reads it, against the host's facts. */
export function annotationBreaches(params: { cluster: MemberCluster; annotations: Record<string, string>; at: Date }): Breach[] {
  const list = (key: string) => (params.annotations[key] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const constraints: ResidencyConstraints = {
    allowedCountries: list(REQUIREMENT_ANNOTATIONS.allowedCountries) as ResidencyConstraints["allowedCountries"],
    allowedJurisdictions: list(REQUIREMENT_ANNOTATIONS.allowedJurisdictions) as ResidencyConstraints["allowedJurisdictions"],
    requiredCertifications: list(REQUIREMENT_ANNOTATIONS.requiredCertifications) as ResidencyConstraints["requiredCertifications"],
    forbidExtraterritorialExposure: params.annotations[REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure] === "true",
  };
  return constraintBreaches({ cluster: params.cluster, constraints, source: "its own annotations", at: params.at });
}

/** Whether an object's annotations mark it sovereign (subject to residency) even without the workload-uid label. */
export function hasRequirementAnnotations(annotations: Record<string, string>): boolean {
  return Object.values(REQUIREMENT_ANNOTATIONS).some((k) => annotations[k] !== undefined);
}
