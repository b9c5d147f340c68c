// API.md's "Scheduling semantics", written again as plainly as possible and sharing no
// code with the plugins, so that the properties compare two readings of the spec.
import type { ClusterView, PlacementRequest, Reason, Toleration, Taint } from "../../../../operator/src/scheduler/index.ts";

/** The last instant a certification counts, or NaN. A date counts through its whole day (UTC). */
function lastValidInstant(validUntil: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(validUntil)) {
    const startOfDay = Date.parse(`${validUntil}T00:00:00Z`);
    if (Number.isNaN(startOfDay) || !new Date(startOfDay).toISOString().startsWith(validUntil)) return NaN;
    return startOfDay + 24 * 3600 * 1000 - 1;
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(validUntil)) return Date.parse(validUntil);
  return NaN;
}

function certStillValid(validUntil: string, now: number): boolean {
  return now <= lastValidInstant(validUntil);
}

function tolerated(taint: Taint, tolerations: readonly Toleration[]): boolean {
  return tolerations.some((t) => {
    const op = t.operator ?? "Equal";
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return op === "Exists";
    return t.key === taint.key && (op === "Exists" || (op === "Equal" && (t.value ?? "") === (taint.value ?? "")));
  });
}

/** The labels a selector sees: own labels without the reserved prefixes, plus the mirrored ones. */
export function oracleLabels(c: ClusterView, now: number): Map<string, string> {
  const labels = new Map<string, string>();
  for (const [k, v] of Object.entries(c.labels)) {
    if (!k.startsWith("residency.sovereignty.eu/") && !k.startsWith("certification.sovereignty.eu/")) labels.set(k, v);
  }
  labels.set("residency.sovereignty.eu/country", c.country);
  labels.set("residency.sovereignty.eu/jurisdiction", c.jurisdiction);
  labels.set("residency.sovereignty.eu/extraterritorial-exposure", c.extraterritorialExposure.length ? "exposed" : "none");
  // Several valid entries of one name: the one valid longest names the version, then the highest version.
  const valid = c.certifications
    .filter((x) => certStillValid(x.validUntil, now))
    .sort((a, b) => lastValidInstant(a.validUntil) - lastValidInstant(b.validUntil) || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  for (const cert of valid) labels.set(`certification.sovereignty.eu/${cert.name.toLowerCase()}`, cert.version);
  return labels;
}

/** Replicas of the request that fit in the cluster; Infinity when it has not reported capacity. */
export function oracleFit(c: ClusterView, r: PlacementRequest): number {
  if (!c.free) return Infinity;
  const limits = [Math.max(0, c.free.pods)];
  if (r.perReplica.cpuMilli > 0) limits.push(Math.floor(Math.max(0, c.free.cpuMilli) / r.perReplica.cpuMilli));
  if (r.perReplica.memoryBytes > 0) limits.push(Math.floor(Math.max(0, c.free.memoryBytes) / r.perReplica.memoryBytes));
  return Math.min(...limits);
}

/** The set of reasons API.md gives for this cluster; empty means eligible. */
export function oracleReasons(c: ClusterView, r: PlacementRequest, now: number): Set<Reason> {
  const reasons = new Set<Reason>();
  if (!c.ready) reasons.add("NotReady");
  for (const t of c.taints) if ((t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerated(t, r.tolerations)) reasons.add("Tainted");
  for (const k of r.constraints) {
    if (k.allowedCountries?.length && !k.allowedCountries.includes(c.country)) reasons.add("CountryNotAllowed");
    if (k.allowedJurisdictions?.length && !k.allowedJurisdictions.includes(c.jurisdiction)) reasons.add("JurisdictionNotAllowed");
    for (const name of k.requiredCertifications ?? []) {
      const held = c.certifications.filter((x) => x.name === name);
      if (held.length === 0) reasons.add("MissingCertification");
      else if (!held.some((x) => certStillValid(x.validUntil, now))) reasons.add("CertificationExpired");
    }
    if (k.forbidExtraterritorialExposure && c.extraterritorialExposure.length > 0) reasons.add("ExtraterritorialExposure");
    if (k.clusterSelector) {
      const labels = oracleLabels(c, now);
      const s = k.clusterSelector;
      const ok =
        Object.entries(s.matchLabels ?? {}).every(([key, v]) => labels.get(key) === v) &&
        (s.matchExpressions ?? []).every((e) => {
          const v = labels.get(e.key);
          if (e.operator === "In") return v !== undefined && (e.values ?? []).includes(v);
          if (e.operator === "NotIn") return v === undefined || !(e.values ?? []).includes(v);
          if (e.operator === "Exists") return v !== undefined;
          if (e.operator === "DoesNotExist") return v === undefined;
          return false;
        });
      if (!ok) reasons.add("SelectorMismatch");
    }
  }
  const needed = r.mode === "Duplicated" ? r.replicas : Math.min(1, r.replicas);
  if (needed > 0 && oracleFit(c, r) < needed) reasons.add("InsufficientCapacity");
  return reasons;
}

export const oracleEligible = (c: ClusterView, r: PlacementRequest, now: number): boolean => oracleReasons(c, r, now).size === 0;
export const certificationStillValid = certStillValid;
