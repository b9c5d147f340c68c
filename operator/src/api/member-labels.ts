/**
 * Labels and annotations the control plane and the agents put on member objects, and
 * that the member's residency guard (a ValidatingAdmissionPolicy) reads. One place, so
 * the agent that writes them and the policy that checks them cannot drift apart.
 */
export const MEMBER_LABELS = {
  /** On every pod (and Deployment) of a SovereignWorkload: its metadata.uid on the host. */
  workloadUid: "sovereignty.eu/workload-uid",
  /** On every object the agent manages: the value is MANAGED_BY_AGENT. */
  managedBy: "app.kubernetes.io/managed-by",
} as const;
export const MANAGED_BY_AGENT = "sovereign-agent";

/**
 * A pod's residency requirements, as the guard reads them: comma-separated lists, empty
 * or absent meaning "no constraint" (API.md), except that the presence of any of them
 * (or of the workload-uid label) makes the pod sovereign and subject to the guard.
 */
export const REQUIREMENT_ANNOTATIONS = {
  allowedCountries: "residency.sovereignty.eu/allowed-countries",
  allowedJurisdictions: "residency.sovereignty.eu/allowed-jurisdictions",
  requiredCertifications: "residency.sovereignty.eu/required-certifications",
  /** "true" or "false". */
  forbidExtraterritorialExposure: "residency.sovereignty.eu/forbid-extraterritorial-exposure",
} as const;

/** Annotations on the agent's Deployments: what they were applied from. */
export const DEPLOYMENT_ANNOTATIONS = {
  workload: "sovereignty.eu/workload",
  generation: "sovereignty.eu/generation",
  intentId: "sovereignty.eu/intent-id",
  /** The intent's decidedAt (RFC 3339): an intent decided earlier than this is stale and ignored. */
  decidedAt: "sovereignty.eu/decided-at",
} as const;

/**
 * The guard's parameter on each member: a ConfigMap the agent keeps equal to what the
 * host declared for this member (never what the member says of itself). Keys:
 * country, jurisdiction, validCertifications (comma-separated names valid today),
 * extraterritorialExposure (comma-separated laws, or EXPOSURE_NONE; see guardExposureFact),
 * cluster.
 */
export const GUARD_PARAM = { namespace: "sovereign-system", name: "sovereign-residency-facts" } as const;

/**
 * What the guard's parameter says of a member that declared no extraterritorial exposure.
 * Explicit, because the guard reads a missing or blank fact as exposed (as the scheduler
 * reads an undeclared exposure): a lost key must refuse pods, never admit them.
 */
export const EXPOSURE_NONE = "none";

/** The guard parameter's extraterritorialExposure value for `laws` (the host's declaration). */
export function guardExposureFact(laws: readonly string[]): string {
  const named = [...new Set(laws.map((l) => l.trim()).filter((l) => l !== ""))].sort();
  return named.length === 0 ? EXPOSURE_NONE : named.join(",");
}

/**
 * How the guard reads a boolean annotation: Go's strconv.ParseBool spellings (as the
 * Kubernetes API reads booleans from strings), so "True" and "TRUE" forbid as "true"
 * does; anything else is no boolean at all, and the guard refuses the pod.
 */
export const BOOLEAN_TRUE = ["1", "t", "T", "TRUE", "true", "True"] as const;
export const BOOLEAN_FALSE = ["0", "f", "F", "FALSE", "false", "False"] as const;

/** true, false, or undefined when `value` is not one of the spellings above. */
export function parseGuardBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if ((BOOLEAN_TRUE as readonly string[]).includes(value)) return true;
  if ((BOOLEAN_FALSE as readonly string[]).includes(value)) return false;
  return undefined;
}
