// One description of the API's schema, in TypeScript, from which both the CRD YAML
// (crd.ts, hack/gen-crds.ts) and the offline decoder (validate.ts) are derived. The
// builders are typed against the API types in types.ts: an object schema must list
// exactly the type's fields, so the three cannot drift apart silently.

/**
 * A CEL rule (x-kubernetes-validations). `check` is the same rule in TypeScript for the
 * offline decoder; transition rules (those reading oldSelf) have none, because a single
 * document has no previous version.
 */
export interface Rule<S = unknown> {
  rule: string;
  message: string;
  /** Relative JSONPath (".spread.minCountries") the API server reports the error at. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  // Method syntax on purpose: a Rule<T> must widen to Rule<unknown> inside the Schema union.
  check?(self: S): boolean;
}

interface Base<S> {
  description: string;
  rules?: Rule<S>[];
}

export interface StringSchema extends Base<string> {
  type: "string";
  enum?: readonly string[];
  /** What the decoder says when the value is not in `enum` (the API server lists the values). */
  enumReason?: (value: string) => string;
  pattern?: string;
  /** Human wording of `pattern` for the decoder's messages ("a DNS label"). */
  patternName?: string;
  minLength?: number;
  maxLength: number;
  format?: "date" | "date-time";
  default?: string;
}

export interface IntegerSchema extends Base<number> {
  type: "integer";
  format: "int32" | "int64";
  minimum?: number;
  maximum?: number;
  default?: number;
}

export interface BooleanSchema extends Base<boolean> {
  type: "boolean";
  default?: boolean;
}

/** A Kubernetes quantity ("64", "256Gi", 1100): int-or-string with the quantity pattern. */
export interface QuantitySchema extends Base<string> {
  type: "quantity";
}

export interface ArraySchema<I extends Schema = Schema> extends Base<unknown[]> {
  type: "array";
  items: I;
  minItems?: number;
  maxItems: number;
  listType?: "atomic" | "set" | "map";
  listMapKeys?: readonly string[];
}

declare const typeTag: unique symbol;

export interface ObjectSchema<T = unknown> extends Base<T> {
  type: "object";
  properties: Record<string, Schema>;
  required?: readonly string[];
  default?: Record<string, never>;
  /** Phantom: the TS type this schema describes. */
  readonly [typeTag]?: T;
}

/** A string-to-value map (labels, annotations, allocatable). */
export interface MapSchema extends Base<Record<string, unknown>> {
  type: "map";
  values: StringSchema | QuantitySchema;
  maxProperties: number;
}

/** An object whose unlisted fields are kept as they are (the pod spec, validated by the member). */
export interface OpenObjectSchema extends Base<Record<string, unknown>> {
  type: "open-object";
  properties: Record<string, Schema>;
  required?: readonly string[];
}

export type Schema = StringSchema | IntegerSchema | BooleanSchema | QuantitySchema | ArraySchema | ObjectSchema<unknown> | MapSchema | OpenObjectSchema;

/** The schema kinds that can describe a TS value of type V. */
export type SchemaFor<V> = [V] extends [string]
  ? StringSchema | QuantitySchema
  : [V] extends [number]
    ? IntegerSchema
    : [V] extends [boolean]
      ? BooleanSchema
      : [V] extends [ReadonlyArray<infer E>]
        ? ArraySchema<SchemaFor<E>>
        : [V] extends [Record<string, string>]
          ? MapSchema | ObjectSchema<V> | OpenObjectSchema
          : ObjectSchema<V> | OpenObjectSchema;

/** The `properties` of an object schema for T: every field of T, each with a schema of its kind. */
export type ObjectProperties<T> = { [K in keyof T]-?: SchemaFor<NonNullable<T[K]>> };

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

/**
 * An object schema for T: `properties` must name every field of T and nothing else.
 * `required` may list only fields T requires; a required field left out of it must
 * carry a default (checked by a unit test, since types cannot see defaults).
 */
export function object<T>(spec: {
  description: string;
  properties: ObjectProperties<T>;
  required?: readonly RequiredKeys<T>[];
  rules?: Rule<T>[];
  default?: Record<string, never>;
}): ObjectSchema<T> {
  const out: ObjectSchema<T> = { type: "object", description: spec.description, properties: spec.properties as Record<string, Schema> };
  if (spec.required && spec.required.length > 0) out.required = spec.required as readonly string[];
  if (spec.rules) out.rules = spec.rules;
  if (spec.default) out.default = spec.default;
  return out;
}

export function str(description: string, options: Omit<StringSchema, "type" | "description">): StringSchema {
  return { type: "string", description, ...options };
}

export function int32(description: string, options: Omit<IntegerSchema, "type" | "description" | "format"> = {}): IntegerSchema {
  return { type: "integer", format: "int32", description, ...options };
}

export function int64(description: string, options: Omit<IntegerSchema, "type" | "description" | "format"> = {}): IntegerSchema {
  return { type: "integer", format: "int64", description, ...options };
}

export function bool(description: string, options: Omit<BooleanSchema, "type" | "description"> = {}): BooleanSchema {
  return { type: "boolean", description, ...options };
}

export function list<I extends Schema>(description: string, items: I, options: Omit<ArraySchema<I>, "type" | "description" | "items">): ArraySchema<I> {
  return { type: "array", description, items, ...options };
}

export function map(description: string, values: StringSchema | QuantitySchema, options: { maxProperties: number; rules?: Rule<Record<string, unknown>>[] }): MapSchema {
  return { type: "map", description, values, ...options };
}

export function quantity(description: string): QuantitySchema {
  return { type: "quantity", description };
}
