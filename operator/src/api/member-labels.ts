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
 * extraterritorialExposure (comma-separated, empty for none), cluster.
 */
export const GUARD_PARAM = { namespace: "sovereign-system", name: "sovereign-residency-facts" } as const;
