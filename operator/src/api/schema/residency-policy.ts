import { object } from "../openapi.ts";
import type { ResidencyPolicyStatus } from "../types.ts";
import { conditions, residencyConstraints } from "./common.ts";
import type { KindDefinition } from "./kind.ts";

const status = object<ResidencyPolicyStatus>({
  description: "What the control plane observes about the policy.",
  properties: {
    observedGeneration: { type: "integer", format: "int64", minimum: 0, description: "The metadata.generation this status was computed from." },
    conditions: conditions("The policy's conditions."),
  },
});

export const residencyPolicy: KindDefinition = {
  kind: "ResidencyPolicy",
  plural: "residencypolicies",
  singular: "residencypolicy",
  shortNames: ["rp"],
  scope: "Cluster",
  description:
    "A data class defined by the host's admin: the countries, jurisdictions, certifications and exposure rules that every cluster running a workload of this class must satisfy. Workloads refer to it by name in spec.residencyPolicy.",
  spec: residencyConstraints(
    "The constraints of this data class. A cluster is eligible only if it satisfies all of them; absent or empty lists constrain nothing.",
  ),
  status,
  printerColumns: [
    { name: "Countries", type: "string", jsonPath: ".spec.allowedCountries", description: "Allowed countries; empty: any." },
    { name: "Jurisdictions", type: "string", jsonPath: ".spec.allowedJurisdictions", description: "Allowed jurisdictions; empty: any.", priority: 1 },
    { name: "Certifications", type: "string", jsonPath: ".spec.requiredCertifications", description: "Certifications a cluster must all hold." },
    { name: "No-Exposure", type: "boolean", jsonPath: ".spec.forbidExtraterritorialExposure", description: "Whether providers exposed to extraterritorial laws are excluded.", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};
