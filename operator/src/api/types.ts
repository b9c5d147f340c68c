// The v1alpha1 API (group sovereignty.eu) as plain TypeScript types. The field names are
// the contract in API.md; the CRD schemas in crds/ are generated from schema.ts, which the
// compiler checks against these types, so a field added here and not there fails to build.
import type { CountryCode } from "./countries.ts";

export type { CountryCode } from "./countries.ts";
export { COUNTRY_CODES, isCountryCode } from "./countries.ts";

export const GROUP = "sovereignty.eu";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const KINDS = ["MemberCluster", "ResidencyPolicy", "SovereignWorkload"] as const;
export type Kind = (typeof KINDS)[number];

export const JURISDICTIONS = ["EU", "EEA", "NONE"] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

export const CERTIFICATION_NAMES = ["SecNumCloud", "C5", "HDS", "EUCS-High", "EUCS-HighPlus", "GaiaX-L3", "ISO27001"] as const;
export type CertificationName = (typeof CERTIFICATION_NAMES)[number];

export const PLACEMENT_MODES = ["Divided", "Duplicated"] as const;
export type PlacementMode = (typeof PLACEMENT_MODES)[number];

export const TAINT_EFFECTS = ["NoSchedule", "NoExecute"] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

export const LABEL_SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;
export type LabelSelectorOperator = (typeof LABEL_SELECTOR_OPERATORS)[number];

export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

/** Laws with reach outside the EU that a provider may be subject to. Free text in the API; these are the spellings the examples and docs use. */
export const KNOWN_EXTRATERRITORIAL_LAWS = ["US-CLOUD-Act", "US-FISA-702", "US-EO-12333"] as const;

/** Why a cluster was not used for a workload (status.rejectedClusters[].reasons). */
export const REJECTION_REASONS = [
  "NotReady",
  "Tainted",
  "CountryNotAllowed",
  "JurisdictionNotAllowed",
  "MissingCertification",
  "CertificationExpired",
  "ExtraterritorialExposure",
  "SelectorMismatch",
  "InsufficientCapacity",
  "SpreadUnsatisfiable",
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const MEMBER_CLUSTER_CONDITIONS = { Ready: "Ready", Joined: "Joined" } as const;
export const WORKLOAD_CONDITIONS = { Scheduled: "Scheduled", Ready: "Ready", ResidencyCompliant: "ResidencyCompliant" } as const;
/** Scheduled=False reason when no member cluster satisfies the residency constraints. */
export const REASON_NO_COMPLIANT_CLUSTER = "NoCompliantCluster";

/** The labels the control plane mirrors from spec.residency so plain label selectors work. */
export const RESIDENCY_LABELS = {
  country: "residency.sovereignty.eu/country",
  jurisdiction: "residency.sovereignty.eu/jurisdiction",
  extraterritorialExposure: "residency.sovereignty.eu/extraterritorial-exposure",
  /** Prefix; the full key is `certification.sovereignty.eu/<lowercased-name>`, the value the version. */
  certificationPrefix: "certification.sovereignty.eu/",
} as const;

// ---- shared Kubernetes shapes ----

/** The subset of metav1.ObjectMeta this project reads; the API server sets the rest. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: unknown[];
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339 date-time, e.g. "2026-11-28T10:00:00Z". */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  /** Required (non-empty) for In and NotIn, absent or empty for Exists and DoesNotExist. */
  values?: string[];
}

/** metav1.LabelSelector. An empty selector matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** core/v1 Toleration: the scheduler reads these from the pod template to match cluster taints. */
export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** core/v1 PodTemplateSpec, kept loose: the member cluster's API server validates the pod. */
export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface PodSpec {
  containers: Array<{ name: string; image: string; [field: string]: unknown }>;
  tolerations?: Toleration[];
  [field: string]: unknown;
}

// ---- MemberCluster (cluster-scoped) ----

export interface Certification {
  name: CertificationName;
  /** Mirrored as the value of the certification label, hence label-value syntax. */
  version?: string;
  /** ISO 8601 date ("2027-06-30"); the certification counts up to and including that day. */
  validUntil: string;
}

export interface Residency {
  country: CountryCode;
  jurisdiction: Jurisdiction;
  region?: string;
  provider?: string;
  /**
   * Laws with reach outside the EU the provider is subject to. Required: `[]` declares no
   * exposure (an object stored before it was required may still lack it; the scheduler
   * then treats the cluster as exposed).
   */
  extraterritorialExposure: string[];
  certifications?: Certification[];
}

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface MemberClusterSpec {
  residency: Residency;
  taints?: Taint[];
}

export interface MemberClusterStatus {
  observedGeneration?: number;
  /** Ready (heartbeats fresh), Joined. */
  conditions?: Condition[];
  lastHeartbeatTime?: string;
  /** Resource quantities as strings, e.g. {cpu: "64", memory: "256Gi", pods: "1100"}. */
  allocatable?: Record<string, string>;
  /** Names of the certifications valid at the last reconcile, sorted (shown by `kubectl get mc`). */
  validCertifications?: CertificationName[];
}

export interface MemberCluster {
  apiVersion: typeof API_VERSION;
  kind: "MemberCluster";
  metadata: ObjectMeta;
  spec: MemberClusterSpec;
  status?: MemberClusterStatus;
}

// ---- ResidencyPolicy (cluster-scoped) ----

/** A data class: the constraints a workload's clusters must satisfy. Also inline in a workload. */
export interface ResidencyConstraints {
  /** Empty or absent: no country constraint. */
  allowedCountries?: CountryCode[];
  /** Empty or absent: no jurisdiction constraint. */
  allowedJurisdictions?: Jurisdiction[];
  /** All must be held and valid. */
  requiredCertifications?: CertificationName[];
  forbidExtraterritorialExposure?: boolean;
  /** May failover move replicas to another allowed country? */
  crossBorderFailover?: boolean;
  clusterSelector?: LabelSelector;
}

/** Pod Security Standards levels a data class may ask of the namespaces its pods run in on the members. */
export const POD_SECURITY_LEVELS = ["restricted", "baseline"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/**
 * What the pods of a data class may do beyond the restricted default. Only a
 * ResidencyPolicy (the host admin's) carries it, never a workload's inline constraints:
 * a workload's author must not widen their own rights.
 */
export interface PodSecurityPolicy {
  /** The Pod Security Standard enforced on the namespaces the agent creates. Default restricted. */
  level?: PodSecurityLevel;
  /** ServiceAccounts other than `default` the pods may run as. Absent or empty: only `default`. */
  allowedServiceAccounts?: string[];
}

export interface ResidencyPolicySpec extends ResidencyConstraints {
  podSecurity?: PodSecurityPolicy;
}

export interface ResidencyPolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ResidencyPolicy {
  apiVersion: typeof API_VERSION;
  kind: "ResidencyPolicy";
  metadata: ObjectMeta;
  spec: ResidencyPolicySpec;
  status?: ResidencyPolicyStatus;
}

// ---- SovereignWorkload (namespaced) ----

export interface Placement {
  /** Default Divided. */
  mode: PlacementMode;
  maxClusters?: number;
  spread?: { minCountries: number };
}

export interface Failover {
  /** Default true. */
  enabled: boolean;
  /** Default 30. How long a NotReady cluster keeps its replicas. */
  tolerationSeconds: number;
}

export interface SovereignWorkloadSpec {
  /** Default 1. With Divided: in total; with Duplicated: in each chosen cluster. */
  replicas: number;
  residencyPolicy?: string;
  /** Inline constraints; with a policy too, both apply. */
  residency?: ResidencyConstraints;
  /** Defaulted to {mode: Divided} when absent. */
  placement: Placement;
  /** Defaulted to {enabled: true, tolerationSeconds: 30} when absent. */
  failover: Failover;
  template: PodTemplateSpec;
}

export interface ClusterPlacement {
  cluster: string;
  country: CountryCode;
  replicas: number;
  readyReplicas?: number;
}

export interface RejectedCluster {
  cluster: string;
  reasons: RejectionReason[];
}

export interface SovereignWorkloadStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  /** Label selector of the workload's pods, as a string (the scale subresource reads it). */
  selector?: string;
  /** Distinct countries holding replicas, sorted (shown by `kubectl get swl`). */
  countries?: CountryCode[];
  /** Scheduled, Ready, ResidencyCompliant. */
  conditions?: Condition[];
  placements?: ClusterPlacement[];
  rejectedClusters?: RejectedCluster[];
}

export interface SovereignWorkload {
  apiVersion: typeof API_VERSION;
  kind: "SovereignWorkload";
  metadata: ObjectMeta;
  spec: SovereignWorkloadSpec;
  status?: SovereignWorkloadStatus;
}

export type SovereignObject = MemberCluster | ResidencyPolicy | SovereignWorkload;

export const DEFAULTS = {
  replicas: 1,
  placementMode: "Divided",
  failoverEnabled: true,
  failoverTolerationSeconds: 30,
} as const;
