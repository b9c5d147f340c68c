// Interprets the schema description (openapi.ts) the way the API server interprets the
// generated CRD: types, enums, patterns, bounds, list semantics, defaults, and the CEL
// rules through their TypeScript twins. Unknown fields are errors, as with
// `kubectl apply --validate=strict`, because offline input has no server to prune them.
import { isDate, isDateTime, QUANTITY } from "./formats.ts";
import type { ArraySchema, MapSchema, ObjectSchema, OpenObjectSchema, Rule, Schema, StringSchema } from "./openapi.ts";

export interface Issue {
  /** Path in the object, e.g. spec.residency.certifications[0].validUntil. */
  field: string;
  reason: string;
}

const QUANTITY_RE = new RegExp(QUANTITY);
const regexCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) regexCache.set(pattern, (re = new RegExp(pattern)));
  return re;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a timestamp";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  return `a ${typeof value}`;
}

/** Defines an own property, so a "__proto__" key from parsed YAML is data, never the prototype. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);
const show = (v: unknown) => JSON.stringify(v);
/** Kubernetes counts string lengths in characters (runes), not UTF-16 units. */
const charCount = (s: string) => [...s].length;

/**
 * Validates `value` against `schema`, appending to `issues`, and returns the value with
 * defaults applied and nulls dropped (the API server prunes nulls of non-nullable fields
 * before defaulting). `undefined` means "absent".
 */
export function validateValue(schema: Schema, value: unknown, path: string, issues: Issue[]): unknown {
  const before = issues.length;
  const result = validateShape(schema, value, path, issues);
  if (issues.length === before && schema.rules) runRules(schema.rules, result, path, issues);
  return result;
}

export function runRules<S>(rules: readonly Rule<S>[], self: S, path: string, issues: Issue[]): void {
  for (const rule of rules) {
    if (!rule.check) continue;
    let ok: boolean;
    try {
      ok = rule.check(self);
    } catch {
      ok = false;
    }
    if (!ok) issues.push({ field: rule.fieldPath ? path + rule.fieldPath : path, reason: rule.message });
  }
}

function validateShape(schema: Schema, value: unknown, path: string, issues: Issue[]): unknown {
  switch (schema.type) {
    case "string":
      return validateString(schema, value, path, issues);
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        issues.push({ field: path, reason: `must be an integer, got ${describeType(value)}${typeof value === "number" || typeof value === "string" ? ` (${show(value)})` : ""}` });
        return value;
      }
      if (schema.minimum !== undefined && value < schema.minimum) issues.push({ field: path, reason: `must be at least ${schema.minimum}, got ${value}` });
      if (schema.maximum !== undefined && value > schema.maximum) issues.push({ field: path, reason: `must be at most ${schema.maximum}, got ${value}` });
      return value;
    }
    case "boolean":
      if (typeof value !== "boolean") issues.push({ field: path, reason: `must be a boolean (true or false), got ${describeType(value)}` });
      return value;
    case "quantity":
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      if (typeof value !== "string" || !QUANTITY_RE.test(value)) {
        issues.push({ field: path, reason: `must be a quantity such as "64", "500m" or "256Gi", got ${typeof value === "string" ? show(value) : describeType(value)}` });
      }
      return value;
    case "array":
      return validateArray(schema, value, path, issues);
    case "object":
    case "open-object":
      return validateObject(schema, value, path, issues);
    case "map":
      return validateMap(schema, value, path, issues);
  }
}

function validateString(schema: StringSchema, raw: unknown, path: string, issues: Issue[]): unknown {
  // A YAML 1.1 parser turns an unquoted 2027-06-30 into a timestamp; the API server sees the string.
  const value = raw instanceof Date && schema.format === "date" ? raw.toISOString().slice(0, 10) : raw instanceof Date ? raw.toISOString() : raw;
  if (typeof value !== "string") {
    // kubectl reads YAML 1.1, where unquoted NO (Norway), yes, on and off are booleans.
    const hint = typeof value === "boolean" ? ' (unquoted yes/no/on/off, and NO for Norway, are booleans in YAML 1.1, which kubectl reads: quote the value)' : "";
    issues.push({ field: path, reason: `must be a string, got ${describeType(value)}${typeof value === "number" ? ` (${value})` : ""}${hint}` });
    return value;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    issues.push({ field: path, reason: schema.enumReason ? schema.enumReason(value) : `${show(value)} is not one of ${schema.enum.map(show).join(", ")}` });
    return value;
  }
  const length = charCount(value);
  if (length > schema.maxLength) issues.push({ field: path, reason: `must be at most ${schema.maxLength} characters, got ${length}` });
  if (schema.minLength !== undefined && length < schema.minLength) {
    issues.push({ field: path, reason: schema.minLength === 1 ? "must not be empty" : `must be at least ${schema.minLength} characters, got ${length}` });
  }
  if (schema.pattern && length <= schema.maxLength && !regex(schema.pattern).test(value)) {
    issues.push({ field: path, reason: `${show(value)} is not ${schema.patternName ?? `matching ${schema.pattern}`}` });
  }
  if (schema.format === "date" && !isDate(value)) issues.push({ field: path, reason: `${show(value)} is not a date (YYYY-MM-DD, a day that exists)` });
  if (schema.format === "date-time" && !isDateTime(value)) issues.push({ field: path, reason: `${show(value)} is not an RFC 3339 timestamp such as 2026-11-28T10:00:00Z` });
  return value;
}

function validateArray(schema: ArraySchema, value: unknown, path: string, issues: Issue[]): unknown {
  if (!Array.isArray(value)) {
    issues.push({ field: path, reason: `must be a list, got ${describeType(value)}` });
    return value;
  }
  if (value.length > schema.maxItems) {
    issues.push({ field: path, reason: `must have at most ${schema.maxItems} items, got ${value.length}` });
    return value;
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) issues.push({ field: path, reason: `must have at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}` });
  const out = value.map((item, i) => validateValue(schema.items, item, `${path}[${i}]`, issues));
  if (schema.listType === "set" || schema.listType === "map") {
    const seen = new Map<string, number>();
    const keys = schema.listMapKeys ?? [];
    out.forEach((item, i) => {
      let key: string;
      let what: string;
      if (schema.listType === "map") {
        if (!isPlainObject(item)) return; // already reported as not an object
        key = show(keys.map((k) => item[k]));
        what = `${keys.join("+")} ${keys.map((k) => show(item[k])).join("+")}`;
      } else {
        key = show(item);
        what = `value ${key}`;
      }
      const first = seen.get(key);
      if (first !== undefined) issues.push({ field: `${path}[${i}]`, reason: `duplicate ${what} (already at [${first}])` });
      else seen.set(key, i);
    });
  }
  return out;
}

function validateObject(schema: ObjectSchema<unknown> | OpenObjectSchema, value: unknown, path: string, issues: Issue[]): unknown {
  if (!isPlainObject(value)) {
    issues.push({ field: path, reason: `must be an object, got ${describeType(value)}` });
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null) continue;
    const childSchema = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
    if (childSchema) {
      const v = validateValue(childSchema, child, join(path, key), issues);
      if (v !== undefined) put(out, key, v);
    } else if (schema.type === "open-object") {
      put(out, key, child);
    } else {
      issues.push({ field: join(path, key), reason: `unknown field ${show(key)}` });
    }
  }
  for (const [key, childSchema] of Object.entries(schema.properties)) {
    if (Object.hasOwn(out, key)) continue;
    const fallback = "default" in childSchema ? childSchema.default : undefined;
    if (fallback !== undefined) {
      // Defaults are themselves defaulted: placement: {} gets mode: Divided.
      put(out, key, validateValue(childSchema, structuredClone(fallback), join(path, key), issues));
    }
  }
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(out, key) && !(Object.hasOwn(value, key) && value[key] !== null)) issues.push({ field: join(path, key), reason: "required field is missing" });
  }
  return out;
}

function validateMap(schema: MapSchema, value: unknown, path: string, issues: Issue[]): unknown {
  if (!isPlainObject(value)) {
    issues.push({ field: path, reason: `must be an object (a map), got ${describeType(value)}` });
    return value;
  }
  const entries = Object.entries(value);
  if (entries.length > schema.maxProperties) {
    issues.push({ field: path, reason: `must have at most ${schema.maxProperties} entries, got ${entries.length}` });
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of entries) {
    if (child === null) continue;
    put(out, key, validateValue(schema.values, child, `${path}[${key}]`, issues));
  }
  return out;
}
