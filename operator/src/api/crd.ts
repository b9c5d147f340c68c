// Builds the CustomResourceDefinitions from the schema description. hack/gen-crds.ts
// writes them to crds/; a unit test checks the committed files equal this output.
import { Document, isPair, isScalar, isSeq, visit } from "yaml";
import { QUANTITY } from "./formats.ts";
import type { Rule, Schema } from "./openapi.ts";
import { KIND_DEFINITIONS } from "./schema/index.ts";
import type { KindDefinition } from "./schema/index.ts";
import { GROUP, KINDS, VERSION } from "./types.ts";
import { renderValidationDoc } from "./validation-doc.ts";
import type { Kind } from "./types.ts";

export const CATEGORY = "sovereign";

type Json = Record<string, unknown>;

function validations(rules: readonly Rule<never>[] | undefined): Json {
  if (!rules || rules.length === 0) return {};
  return {
    "x-kubernetes-validations": rules.map((r) => ({
      rule: r.rule,
      message: r.message,
      ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    })),
  };
}

/** The OpenAPI v3 (structural) schema the API server validates against. */
export function toOpenApi(schema: Schema): Json {
  const rules = validations(schema.rules as readonly Rule<never>[] | undefined);
  switch (schema.type) {
    case "string":
      return {
        type: "string",
        description: schema.description,
        ...(schema.enum ? { enum: [...schema.enum] } : {}),
        ...(schema.format ? { format: schema.format } : {}),
        ...(schema.pattern ? { pattern: schema.pattern } : {}),
        ...(schema.minLength !== undefined ? { minLength: schema.minLength } : {}),
        maxLength: schema.maxLength,
        ...(schema.default !== undefined ? { default: schema.default } : {}),
        ...rules,
      };
    case "integer":
      return {
        type: "integer",
        format: schema.format,
        description: schema.description,
        ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
        ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
        ...(schema.default !== undefined ? { default: schema.default } : {}),
        ...rules,
      };
    case "boolean":
      return { type: "boolean", description: schema.description, ...(schema.default !== undefined ? { default: schema.default } : {}), ...rules };
    case "quantity":
      return {
        description: schema.description,
        anyOf: [{ type: "integer" }, { type: "string" }],
        pattern: QUANTITY,
        "x-kubernetes-int-or-string": true,
        ...rules,
      };
    case "array":
      return {
        type: "array",
        description: schema.description,
        items: toOpenApi(schema.items),
        ...(schema.minItems !== undefined ? { minItems: schema.minItems } : {}),
        maxItems: schema.maxItems,
        ...(schema.listType ? { "x-kubernetes-list-type": schema.listType } : {}),
        ...(schema.listMapKeys ? { "x-kubernetes-list-map-keys": [...schema.listMapKeys] } : {}),
        ...rules,
      };
    case "map":
      return { type: "object", description: schema.description, additionalProperties: toOpenApi(schema.values), maxProperties: schema.maxProperties, ...rules };
    case "object":
    case "open-object":
      return {
        type: "object",
        description: schema.description,
        properties: Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, toOpenApi(v)])),
        ...(schema.required && schema.required.length > 0 ? { required: [...schema.required] } : {}),
        ...(schema.type === "object" && schema.default !== undefined ? { default: schema.default } : {}),
        ...(schema.type === "open-object" ? { "x-kubernetes-preserve-unknown-fields": true } : {}),
        ...rules,
      };
  }
}

export function buildCrd(def: KindDefinition): Json {
  const root: Json = {
    type: "object",
    description: def.description,
    properties: {
      apiVersion: { type: "string", description: `${GROUP}/${VERSION}.` },
      kind: { type: "string", description: `${def.kind}.` },
      metadata: def.metadataName ? { type: "object", properties: { name: toOpenApi(def.metadataName) } } : { type: "object" },
      spec: toOpenApi(def.spec),
      status: toOpenApi(def.status),
    },
    required: ["spec"],
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}`, labels: { "app.kubernetes.io/part-of": "sovereign-federation" } },
    spec: {
      group: GROUP,
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.singular, shortNames: def.shortNames, categories: [CATEGORY] },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: root },
          subresources: { status: {}, ...(def.scale ? { scale: def.scale } : {}) },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

export function crdFileName(kind: Kind): string {
  return `${GROUP}_${KIND_DEFINITIONS[kind].plural}.yaml`;
}

const HEADER = "# Generated by hack/gen-crds.ts from operator/src/api/schema/ (npm run gen:crds). Do not edit by hand.\n";

// Short lists of scalars read better on one line; the 249 country codes most of all.
const FLOW_KEYS = new Set(["enum", "required", "shortNames", "categories", "x-kubernetes-list-map-keys", "anyOf"]);

export function renderCrd(kind: Kind): string {
  // compat: kubectl reads YAML 1.1, where an unquoted NO (Norway) is the boolean false.
  const doc = new Document(buildCrd(KIND_DEFINITIONS[kind]), { compat: "yaml-1.1" });
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && FLOW_KEYS.has(String(pair.key.value)) && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  return HEADER + doc.toString({ lineWidth: 0 });
}

/** Every generated file: name relative to crds/, and content. */
export function renderAllCrds(): Array<{ file: string; content: string }> {
  return [...KINDS.map((kind) => ({ file: crdFileName(kind), content: renderCrd(kind) })), { file: "VALIDATION.md", content: renderValidationDoc() }];
}
