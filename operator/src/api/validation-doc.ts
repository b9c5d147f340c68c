// Renders crds/VALIDATION.md, the list of every validation rule and what it rejects, from
// the same schema description as the CRDs, so the list cannot miss a rule.
import { COUNTRY_CODES } from "./countries.ts";
import type { Rule, Schema } from "./openapi.ts";
import { KIND_DEFINITIONS } from "./schema/index.ts";
import { KINDS } from "./types.ts";

interface Row {
  field: string;
  rule: string;
  rejects: string;
}

const code = (s: string) => `\`${s.replace(/\|/g, "\\|")}\``;

function enumText(values: readonly string[]): { rule: string; rejects: string } {
  if (values.length === COUNTRY_CODES.length && values.every((v, i) => v === COUNTRY_CODES[i])) {
    return { rule: "enum: the 249 ISO 3166-1 alpha-2 codes", rejects: 'any other string: `XX`, lower case `fr`, `EU`, `UK` (the code is `GB`), look-alike unicode' };
  }
  return { rule: `enum: ${values.map((v) => code(v === "" ? '""' : v)).join(", ")}`, rejects: "any other string, including other case and look-alike unicode" };
}

function celRow(field: string, r: Rule<never>, transition: boolean): Row {
  return {
    field: r.fieldPath ? `${field}${r.fieldPath}` : field,
    rule: `CEL${transition ? " (transition rule, on update)" : ""}: ${code(r.rule.length > 160 ? `${r.rule.slice(0, 157)}...` : r.rule)}`,
    rejects: r.message,
  };
}

function rowsFor(schema: Schema, field: string, out: Row[]): void {
  const add = (rule: string, rejects: string) => out.push({ field, rule, rejects });
  switch (schema.type) {
    case "string":
      add("type: string", "numbers, booleans, lists, objects");
      if (schema.enum) {
        const e = enumText(schema.enum);
        add(e.rule, e.rejects);
      }
      if (schema.pattern) add(`pattern: ${code(schema.pattern)}`, `strings that are not ${schema.patternName ?? "matching"}`);
      if (schema.format === "date") add("format: date", "anything but an existing calendar day `YYYY-MM-DD`: `2027-13-01`, `2027-02-30`, `30/06/2027`");
      if (schema.format === "date-time") add("format: date-time", "anything but an RFC 3339 timestamp");
      if (schema.minLength) add(`minLength: ${schema.minLength}`, schema.minLength === 1 ? "the empty string" : `strings shorter than ${schema.minLength} characters`);
      add(`maxLength: ${schema.maxLength}`, `strings longer than ${schema.maxLength} characters`);
      if (schema.default !== undefined) add(`default: ${code(schema.default)}`, "nothing (set when absent)");
      break;
    case "integer":
      add(`type: integer (${schema.format})`, "strings, fractions, booleans");
      if (schema.minimum !== undefined) add(`minimum: ${schema.minimum}`, `values below ${schema.minimum}`);
      if (schema.maximum !== undefined) add(`maximum: ${schema.maximum}`, `values above ${schema.maximum}`);
      if (schema.default !== undefined) add(`default: ${schema.default}`, "nothing (set when absent)");
      break;
    case "boolean":
      add("type: boolean", '`"true"`, `yes` as a string, numbers');
      if (schema.default !== undefined) add(`default: ${schema.default}`, "nothing (set when absent)");
      break;
    case "quantity":
      add("int-or-string, quantity pattern", 'strings that are not quantities (`"lots"`, `"1 GB"`)');
      break;
    case "array":
      add("type: array", "a single value or an object instead of a list");
      if (schema.minItems) add(`minItems: ${schema.minItems}`, `fewer than ${schema.minItems} items`);
      add(`maxItems: ${schema.maxItems}`, `more than ${schema.maxItems} items`);
      if (schema.listType === "set") add("x-kubernetes-list-type: set", "the same value twice");
      if (schema.listType === "map") add(`x-kubernetes-list-type: map, keys ${(schema.listMapKeys ?? []).join(", ")}`, `two items with the same ${(schema.listMapKeys ?? []).join(" and ")}`);
      break;
    case "map":
      add("type: object (string map)", "lists, scalars, non-string values");
      add(`maxProperties: ${schema.maxProperties}`, `more than ${schema.maxProperties} entries`);
      break;
    case "object":
    case "open-object":
      add("type: object", "lists and scalars");
      if (schema.required?.length) add(`required: ${schema.required.join(", ")}`, `an object without ${schema.required.join(" or ")}`);
      if (schema.type === "open-object") add("x-kubernetes-preserve-unknown-fields", "nothing: other fields are kept for the member's API server to validate");
      if (schema.type === "object" && schema.default) add("default: {}", "nothing (set when absent, then its own defaults apply)");
      break;
  }
  for (const r of (schema.rules ?? []) as Rule<never>[]) out.push(celRow(field, r, r.rule.includes("oldSelf")));
  if (schema.type === "array") rowsFor(schema.items, `${field}[*]`, out);
  if (schema.type === "map") rowsFor(schema.values, `${field}[*]`, out);
  if (schema.type === "object" || schema.type === "open-object") for (const [k, v] of Object.entries(schema.properties)) rowsFor(v, `${field}.${k}`, out);
}

const PREAMBLE = `# Validation rules of the v1alpha1 API

Generated by \`hack/gen-crds.ts\` (\`npm run gen:crds\`) from \`operator/src/api/schema/\`,
like the CRDs next to this file; a unit test fails if this file is stale. Every rule below
is enforced by the API server (OpenAPI schema or CEL \`x-kubernetes-validations\`) and,
except transition rules, by the offline decoder \`operator/src/api/decode.ts\` that
\`kubectl sovereign simulate\` uses. \`test/integration/api/\` applies a table of bad
manifests to a real kube-apiserver v1.34 and checks each is rejected with its field named.

## Behaviours that are not per-field rules

| Behaviour | What happens |
|---|---|
| Unknown field, \`kubectl apply/create\` (default \`--validate=strict\`, server-side field validation Strict) | rejected: \`unknown field "spec.residency.contry"\` |
| Unknown field with \`--validate=false\` / \`fieldValidation=Ignore\` (any client that does not ask for strict) | **accepted and pruned**: the field is silently dropped, not stored |
| Unknown field inside \`spec.template.spec\` | kept (\`x-kubernetes-preserve-unknown-fields\`): the member cluster's API server validates the pod |
| Unknown field, offline decoder | always an error |
| \`status\` given on create or update of the main resource | ignored (status subresource): only \`/status\` writes it |
| \`null\` for a field | dropped before defaulting, as if absent |
| Defaults | \`spec.replicas\` 1, \`spec.placement\` {mode: Divided}, \`spec.failover\` {enabled: true, tolerationSeconds: 30} |
| CEL cost | every string, list and map is bounded (maxLength/maxItems/maxProperties), so each rule's estimated cost is within the API server's budget; the CRDs are refused at apply time otherwise |
| Scale subresource | \`kubectl scale\` writes \`spec.replicas\` and is subject to the same bounds |
| \`kubectl sovereign simulate\` with a cluster-scoped object carrying \`metadata.namespace\` | the namespace is dropped, as kubectl does |
`;

export function renderValidationDoc(): string {
  const parts = [PREAMBLE];
  for (const kind of KINDS) {
    const def = KIND_DEFINITIONS[kind];
    const rows: Row[] = [];
    rows.push({ field: "metadata.name", rule: "Kubernetes object name", rejects: "anything but a DNS subdomain (lowercase, digits, '-', '.'; at most 253)" });
    if (def.metadataName) rowsFor(def.metadataName, "metadata.name", rows);
    rows.push({ field: "spec", rule: "required", rejects: "an object without spec" });
    rowsFor(def.spec, "spec", rows);
    rowsFor(def.status, "status", rows);
    parts.push(
      `## ${kind} (${def.scope === "Cluster" ? "cluster-scoped" : "namespaced"}, short name ${def.shortNames.join(", ")})\n\n` +
        "| Field | Rule | Rejects |\n|---|---|---|\n" +
        rows.map((r) => `| ${code(r.field)} | ${r.rule} | ${r.rejects} |`).join("\n") +
        "\n",
    );
  }
  return parts.join("\n");
}
