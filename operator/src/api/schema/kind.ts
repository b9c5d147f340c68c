import type { ObjectSchema, Rule } from "../openapi.ts";
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
  /** Rules on the whole object; CEL may read only metadata.name and generateName there. */
  rootRules?: Rule<{ metadata: { name: string } }>[];
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}
