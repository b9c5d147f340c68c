import { DNS_LABEL, DNS_SUBDOMAIN, MAX } from "../formats.ts";
import { ALLOWED_ADDED_CAPABILITIES, POD_TEMPLATE_REASONS } from "../pod-security.ts";
import { bool, int32, int64, list, object, str } from "../openapi.ts";
import type { OpenObjectSchema } from "../openapi.ts";
import { PLACEMENT_MODES, REJECTION_REASONS, DEFAULTS } from "../types.ts";
import type {
  ClusterPlacement,
  Failover,
  Placement,
  PodTemplateSpec,
  RejectedCluster,
  SovereignWorkloadSpec,
  SovereignWorkloadStatus,
  Toleration,
} from "../types.ts";
import { conditions, countryCode, labelMap, labelValue, objectName, qualifiedName, residencyConstraints } from "./common.ts";
import type { KindDefinition } from "./kind.ts";

export const LIMITS = {
  maxReplicas: 10000,
  maxClusters: 256,
  maxMinCountries: 64,
  maxTolerationSeconds: 3600,
} as const;

const clusterName = (description: string) =>
  str(description, { pattern: DNS_LABEL, patternName: "a DNS label (lowercase letters, digits and '-')", minLength: 1, maxLength: MAX.dnsLabel });

const placement = object<Placement>({
  description: "How replicas are spread over the eligible clusters.",
  properties: {
    mode: str(
      "Divided (default): spec.replicas in total, divided among the chosen clusters in proportion to their free capacity. Duplicated: spec.replicas in each chosen cluster.",
      { enum: PLACEMENT_MODES, maxLength: 10, default: DEFAULTS.placementMode },
    ),
    maxClusters: int32("At most this many clusters are used. Absent: no cap.", { minimum: 1, maximum: LIMITS.maxClusters }),
    spread: object<{ minCountries: number }>({
      description: "Spread requirements; if they cannot be met the workload is unschedulable rather than placed less spread.",
      properties: {
        minCountries: int32("Replicas must run in at least this many distinct countries.", { minimum: 1, maximum: LIMITS.maxMinCountries }),
      },
      required: ["minCountries"],
    }),
  },
  default: {},
  rules: [
    {
      rule: "!has(self.maxClusters) || !has(self.spread) || self.spread.minCountries <= self.maxClusters",
      message: "spec.placement.spread.minCountries must not exceed spec.placement.maxClusters: each country needs a cluster of its own",
      fieldPath: ".spread.minCountries",
      check: (self) => self.maxClusters === undefined || self.spread === undefined || self.spread.minCountries <= self.maxClusters,
    },
  ],
});

const failover = object<Failover>({
  description: "What happens to replicas on a cluster that stops being Ready. Failover never leaves the residency constraints.",
  properties: {
    enabled: bool("Whether replicas on a NotReady cluster are moved to other eligible clusters (default true).", { default: DEFAULTS.failoverEnabled }),
    tolerationSeconds: int32(`How long a NotReady cluster keeps its replicas before they are moved, 0 to ${LIMITS.maxTolerationSeconds} (default 30).`, {
      minimum: 0,
      maximum: LIMITS.maxTolerationSeconds,
      default: DEFAULTS.failoverTolerationSeconds,
    }),
  },
  default: {},
});

const toleration = object<Toleration>({
  description: "A core/v1 Toleration; also matched against MemberCluster taints.",
  properties: {
    key: qualifiedName("The taint key; absent with operator Exists tolerates every taint."),
    operator: str("Exists or Equal (default).", { enum: ["Exists", "Equal"], maxLength: 6 }),
    value: labelValue("The taint value, for operator Equal."),
    effect: str("The taint effect to match; absent matches all effects.", { enum: ["", "NoSchedule", "PreferNoSchedule", "NoExecute"], maxLength: 16 }),
    tolerationSeconds: int64("For NoExecute: how long the pod stays bound after the taint appears."),
  },
});

// Only the fields a rule reads are declared (CEL cannot see undeclared fields of an open
// object); the member's API server and its Pod Security admission validate the rest.
const forbidTrue = (what: string, reason: string) =>
  bool(`${what} Must be false or absent: ${reason}.`, { rules: [{ rule: "!self", message: reason, check: (self) => !self }] });

const capability = str("A capability to add; only NET_BIND_SERVICE is allowed.", {
  maxLength: 64,
  rules: [{ rule: ALLOWED_ADDED_CAPABILITIES.map((c) => `self == '${c}'`).join(" || "), message: POD_TEMPLATE_REASONS.capability, check: (self) => ALLOWED_ADDED_CAPABILITIES.includes(self) }],
});

const securityContext: OpenObjectSchema = {
  type: "open-object",
  description: "A core/v1 SecurityContext. privileged and capabilities.add are checked here; the member's Pod Security admission checks the rest.",
  properties: {
    privileged: forbidTrue("Whether the container runs privileged.", POD_TEMPLATE_REASONS.privileged),
    capabilities: {
      type: "open-object",
      description: "Capabilities to add and drop.",
      properties: { add: list("Capabilities to add.", capability, { maxItems: 64, listType: "atomic" }) },
    },
  },
};

const container: OpenObjectSchema = {
  type: "open-object",
  description: "A core/v1 Container. name, image and the securityContext's privileged and capabilities.add are checked here; the member cluster's API server validates the rest.",
  properties: {
    name: str("The container's name, a DNS label.", { pattern: DNS_LABEL, patternName: "a DNS label", minLength: 1, maxLength: MAX.dnsLabel }),
    image: str("The container image.", { minLength: 1, maxLength: 1024 }),
    securityContext,
  },
  required: ["name", "image"],
};

const ephemeralContainer: OpenObjectSchema = { ...container, description: "A core/v1 EphemeralContainer, checked as a container." };

const volume: OpenObjectSchema = {
  type: "open-object",
  description: "A core/v1 Volume. hostPath is refused here; the member's API server validates the rest.",
  properties: {
    // With a property: an empty `properties` would be dropped by the API server, and the stored CRD would then differ
    // from every server-side apply of this file (a conflict on .spec.versions for any second field manager).
    hostPath: { type: "open-object", description: "A path of the member's node: not allowed.", properties: { path: str("The path on the node.", { maxLength: 4096 }) } },
  },
  rules: [{ rule: "!has(self.hostPath)", message: POD_TEMPLATE_REASONS.hostPath, fieldPath: ".hostPath", reason: "FieldValueForbidden", check: (self) => self.hostPath === undefined }],
};

const serviceAccount = (description: string) =>
  str(`${description} Other than default only if the workload's ResidencyPolicy lists it in spec.podSecurity.allowedServiceAccounts (checked by the control plane).`, {
    pattern: DNS_SUBDOMAIN,
    patternName: "a ServiceAccount name (a DNS subdomain)",
    maxLength: MAX.dnsSubdomain,
  });

const podSpec: OpenObjectSchema = {
  type: "open-object",
  description:
    "A core/v1 PodSpec, applied on each member cluster. containers, tolerations and what a sovereign workload may not do (privileged containers, host namespaces, hostPath volumes, added capabilities) are checked here; the member's API server and Pod Security admission validate the rest.",
  properties: {
    containers: list("The pod's containers.", container, { minItems: 1, maxItems: 32, listType: "atomic" }),
    initContainers: list("The pod's init containers.", container, { maxItems: 32, listType: "atomic" }),
    ephemeralContainers: list("The pod's ephemeral containers.", ephemeralContainer, { maxItems: 32, listType: "atomic" }),
    tolerations: list("Tolerations of the pod, also matched against MemberCluster taints.", toleration, { maxItems: 32, listType: "atomic" }),
    volumes: list("The pod's volumes.", volume, { maxItems: 128, listType: "atomic" }),
    hostNetwork: forbidTrue("Whether the pod uses the node's network namespace.", POD_TEMPLATE_REASONS.hostNetwork),
    hostPID: forbidTrue("Whether the pod uses the node's PID namespace.", POD_TEMPLATE_REASONS.hostPID),
    hostIPC: forbidTrue("Whether the pod uses the node's IPC namespace.", POD_TEMPLATE_REASONS.hostIPC),
    serviceAccountName: serviceAccount("The ServiceAccount the pods run as."),
    serviceAccount: serviceAccount("Deprecated alias of serviceAccountName."),
  },
  required: ["containers"],
};

const template = object<PodTemplateSpec>({
  description: "The pod template (a core/v1 PodTemplateSpec) of the workload's replicas, created on each chosen member cluster.",
  properties: {
    metadata: object<NonNullable<PodTemplateSpec["metadata"]>>({
      description: "Labels and annotations of the pods.",
      properties: {
        labels: labelMap("Labels of the pods."),
        annotations: {
          type: "map",
          description: "Annotations of the pods.",
          values: str("An annotation value.", { maxLength: 65536 }),
          maxProperties: 64,
        },
      },
    }),
    spec: podSpec,
  },
  required: ["spec"],
});

const spec = object<SovereignWorkloadSpec>({
  description: "The desired state of a workload that must stay within residency constraints.",
  properties: {
    replicas: int32(
      `The number of replicas, 0 to ${LIMITS.maxReplicas} (default 1): in total with placement.mode Divided, per chosen cluster with Duplicated. The scale subresource sets it (kubectl scale).`,
      { minimum: 0, maximum: LIMITS.maxReplicas, default: DEFAULTS.replicas },
    ),
    residencyPolicy: objectName("The name of a ResidencyPolicy (a data class) whose constraints apply. Optional; with spec.residency too, both apply."),
    residency: residencyConstraints(
      "Inline residency constraints, with the same fields as ResidencyPolicy.spec. With spec.residencyPolicy too, both apply: a cluster must satisfy the policy AND these (the stricter intersection).",
    ),
    placement,
    failover,
    template,
  },
  required: ["template"],
});

const clusterPlacement = object<ClusterPlacement>({
  description: "The replicas placed on one member cluster.",
  properties: {
    cluster: clusterName("The MemberCluster's name."),
    country: countryCode("The cluster's country."),
    replicas: int32("Replicas placed on the cluster.", { minimum: 0 }),
    readyReplicas: int32("Replicas the member reports ready.", { minimum: 0 }),
  },
  required: ["cluster", "country", "replicas"],
});

const rejectedCluster = object<RejectedCluster>({
  description: "A member cluster not used for this workload, and why.",
  properties: {
    cluster: clusterName("The MemberCluster's name."),
    reasons: list("Why the cluster was rejected; at least one.", str("A rejection reason.", { enum: REJECTION_REASONS, maxLength: 32 }), {
      minItems: 1,
      maxItems: REJECTION_REASONS.length,
      listType: "set",
    }),
  },
  required: ["cluster", "reasons"],
});

const status = object<SovereignWorkloadStatus>({
  description: "Where the workload's replicas are and why, as the control plane last observed.",
  properties: {
    observedGeneration: int64("The metadata.generation this status was computed from.", { minimum: 0 }),
    replicas: int32("Replicas placed across all clusters (the scale subresource's status.replicas).", { minimum: 0 }),
    readyReplicas: int32("Replicas the members report ready.", { minimum: 0 }),
    selector: str("The label selector of the workload's pods, in string form (read by the scale subresource).", { maxLength: 4096 }),
    countries: list("Distinct countries holding replicas, sorted.", countryCode("A country code."), { maxItems: 64, listType: "set" }),
    conditions: conditions("Scheduled: a compliant placement was found. Ready: all replicas ready. ResidencyCompliant: every replica runs on a cluster that satisfies the constraints."),
    placements: list("Replicas per member cluster.", clusterPlacement, { maxItems: LIMITS.maxClusters, listType: "map", listMapKeys: ["cluster"] }),
    rejectedClusters: list("Member clusters not used, with their reasons.", rejectedCluster, { maxItems: LIMITS.maxClusters, listType: "map", listMapKeys: ["cluster"] }),
  },
});

export const sovereignWorkload: KindDefinition = {
  kind: "SovereignWorkload",
  plural: "sovereignworkloads",
  singular: "sovereignworkload",
  shortNames: ["swl"],
  scope: "Namespaced",
  description:
    "A workload whose replicas run only on member clusters that satisfy its residency constraints (a ResidencyPolicy and/or inline spec.residency). Constraints are never relaxed: not by failover, not by capacity pressure.",
  spec,
  status,
  printerColumns: [
    { name: "Replicas", type: "integer", jsonPath: ".spec.replicas", description: "Desired replicas." },
    { name: "Ready", type: "integer", jsonPath: ".status.readyReplicas", description: "Ready replicas across clusters." },
    { name: "Countries", type: "string", jsonPath: ".status.countries", description: "Countries holding replicas." },
    { name: "Scheduled", type: "string", jsonPath: '.status.conditions[?(@.type=="Scheduled")].status', description: "Whether a compliant placement was found." },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".status.selector" },
};
