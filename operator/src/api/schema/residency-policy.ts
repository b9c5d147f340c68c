import { list, object, str } from "../openapi.ts";
import { POD_SECURITY_LEVELS } from "../types.ts";
import type { PodSecurityPolicy, ResidencyPolicySpec, ResidencyPolicyStatus } from "../types.ts";
import { conditions, objectName, residencyConstraintProperties } from "./common.ts";
import type { KindDefinition } from "./kind.ts";

const status = object<ResidencyPolicyStatus>({
  description: "What the control plane observes about the policy.",
  properties: {
    observedGeneration: { type: "integer", format: "int64", minimum: 0, description: "The metadata.generation this status was computed from." },
    conditions: conditions("The policy's conditions."),
  },
});

const podSecurity = object<PodSecurityPolicy>({
  description:
    "What the pods of this data class may do beyond the defaults: run as a ServiceAccount other than the namespace's default, or in namespaces whose Pod Security Standard is baseline rather than restricted. Only a policy carries this, never a workload's inline constraints.",
  properties: {
    level: str("The Pod Security Standard (pod-security.kubernetes.io/enforce) of the namespaces the member agent creates for workloads of this class: restricted (default) or baseline.", {
      enum: POD_SECURITY_LEVELS,
      maxLength: 10,
    }),
    allowedServiceAccounts: list(
      "ServiceAccounts, other than default, that a workload's spec.template.spec.serviceAccountName may name. Absent or empty: only default.",
      objectName("A ServiceAccount name."),
      { maxItems: 32, listType: "set" },
    ),
  },
});

const spec = object<ResidencyPolicySpec>({
  description: "The constraints of this data class. A cluster is eligible only if it satisfies all of them; absent or empty lists constrain nothing.",
  properties: { ...residencyConstraintProperties, podSecurity },
});

export const residencyPolicy: KindDefinition = {
  kind: "ResidencyPolicy",
  plural: "residencypolicies",
  singular: "residencypolicy",
  shortNames: ["rp"],
  scope: "Cluster",
  description:
    "A data class defined by the host's admin: the countries, jurisdictions, certifications and exposure rules that every cluster running a workload of this class must satisfy. Workloads refer to it by name in spec.residencyPolicy.",
  spec,
  status,
  printerColumns: [
    { name: "Countries", type: "string", jsonPath: ".spec.allowedCountries", description: "Allowed countries; empty: any." },
    { name: "Jurisdictions", type: "string", jsonPath: ".spec.allowedJurisdictions", description: "Allowed jurisdictions; empty: any.", priority: 1 },
    { name: "Certifications", type: "string", jsonPath: ".spec.requiredCertifications", description: "Certifications a cluster must all hold." },
    { name: "No-Exposure", type: "boolean", jsonPath: ".spec.forbidExtraterritorialExposure", description: "Whether providers exposed to extraterritorial laws are excluded.", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};
