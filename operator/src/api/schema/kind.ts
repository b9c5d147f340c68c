import type { ObjectSchema, StringSchema } from "../openapi.ts";
import type { Kind } from "../types.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date" | "boolean" | "number";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything about one kind that the CRD and the decoder are derived from. */
export interface KindDefinition {
  kind: Kind;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  description: string;
  spec: ObjectSchema<unknown>;
  status: ObjectSchema<unknown>;
  /** Restrictions on metadata.name beyond Kubernetes' own (a CRD may restrict only name and generateName). */
  metadataName?: StringSchema;
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}
