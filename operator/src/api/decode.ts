// Turns a parsed YAML/JSON document into a typed API object, or says precisely what is
// wrong with it. This is how `kubectl sovereign simulate` validates offline input: the
// same schema as the CRDs (see openapi.ts), so a document it accepts the API server
// accepts too, up to the rules noted in crds/VALIDATION.md (transition rules need an old
// object; unknown fields are errors here, as with --validate=strict).
import { DNS_LABEL, DNS_SUBDOMAIN, MAX } from "./formats.ts";
import { KIND_DEFINITIONS } from "./schema/index.ts";
import { API_VERSION, KINDS } from "./types.ts";
import type { Kind, MemberCluster, ObjectMeta, ResidencyPolicy, SovereignObject, SovereignWorkload } from "./types.ts";
import type { Issue } from "./validate.ts";
import { describeType, isPlainObject, validateValue } from "./validate.ts";

export type { Issue } from "./validate.ts";

export interface DecodeOptions {
  /** Where the document came from, for messages: "crds/examples/10-member-clusters.yaml#2". */
  source: string;
  /** Namespace given to a namespaced object that has none (kubectl's rule); default "default". */
  defaultNamespace?: string;
}

/** A document that is not a valid object of the API. `field` and `reason` are those of the first issue. */
export class ApiValidationError extends Error {
  override readonly name = "ApiValidationError";
  readonly source: string;
  readonly field: string;
  readonly reason: string;
  readonly issues: readonly Issue[];
  readonly kind: string | undefined;
  readonly objectName: string | undefined;

  constructor(init: { source: string; issues: readonly Issue[]; kind?: string; objectName?: string }) {
    const where = init.kind ? `${init.source} (${init.kind}${init.objectName ? ` ${init.objectName}` : ""})` : init.source;
    const shown = init.issues.map((i) => `${i.field === "" ? "(document)" : i.field}: ${i.reason}`).join("; ");
    super(`${where}: ${shown}`);
    const first = init.issues[0] ?? { field: "", reason: "invalid" };
    this.source = init.source;
    this.field = first.field;
    this.reason = first.reason;
    this.issues = init.issues;
    this.kind = init.kind;
    this.objectName = init.objectName;
  }
}

const ROOT_FIELDS = new Set(["apiVersion", "kind", "metadata", "spec", "status"]);
const KIND_SET: ReadonlySet<string> = new Set(KINDS);

function fail(opts: DecodeOptions, issues: Issue[], kind?: string, objectName?: string): never {
  throw new ApiValidationError({ source: opts.source, issues, ...(kind ? { kind } : {}), ...(objectName ? { objectName } : {}) });
}

function decodeMetadata(raw: unknown, namespaced: boolean, opts: DecodeOptions, issues: Issue[]): ObjectMeta | undefined {
  if (!isPlainObject(raw)) {
    issues.push({ field: "metadata", reason: raw === undefined ? "required field is missing" : `must be an object, got ${describeType(raw)}` });
    return undefined;
  }
  const meta = { ...raw } as Record<string, unknown>;
  const name = meta.name;
  if (typeof name !== "string") {
    issues.push({ field: "metadata.name", reason: name === undefined ? "required field is missing" : `must be a string, got ${describeType(name)}` });
  } else if (name.length > MAX.dnsSubdomain || !new RegExp(DNS_SUBDOMAIN).test(name)) {
    issues.push({ field: "metadata.name", reason: `${JSON.stringify(name)} is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)` });
  }
  if (namespaced) {
    const ns = meta.namespace ?? opts.defaultNamespace ?? "default";
    if (typeof ns !== "string" || ns.length > MAX.dnsLabel || !new RegExp(DNS_LABEL).test(ns)) {
      issues.push({ field: "metadata.namespace", reason: `${JSON.stringify(ns)} is not a namespace name (a DNS label)` });
    }
    meta.namespace = ns;
  } else {
    // kubectl drops the namespace of a cluster-scoped object rather than refusing it.
    delete meta.namespace;
  }
  for (const key of ["labels", "annotations"] as const) {
    const m = meta[key];
    if (m === undefined || m === null) continue;
    if (!isPlainObject(m)) issues.push({ field: `metadata.${key}`, reason: `must be an object, got ${describeType(m)}` });
    else for (const [k, v] of Object.entries(m)) if (typeof v !== "string") issues.push({ field: `metadata.${key}[${k}]`, reason: `must be a string, got ${describeType(v)}` });
  }
  return meta as unknown as ObjectMeta;
}

/** Decodes one document of any of the three kinds. Throws ApiValidationError naming the document, the field and the reason. */
export function decodeObject(doc: unknown, opts: DecodeOptions): SovereignObject {
  if (!isPlainObject(doc)) fail(opts, [{ field: "", reason: `must be an object with apiVersion, kind, metadata and spec, got ${describeType(doc)}` }]);
  const kindValue = doc.kind;
  if (typeof kindValue !== "string" || !KIND_SET.has(kindValue)) {
    const got = kindValue === undefined ? "missing" : JSON.stringify(kindValue);
    fail(opts, [{ field: "kind", reason: `${got} is not a kind of ${API_VERSION}; expected one of ${KINDS.join(", ")}` }]);
  }
  const kind = kindValue as Kind;
  const def = KIND_DEFINITIONS[kind];
  const rawName = isPlainObject(doc.metadata) && typeof doc.metadata.name === "string" ? doc.metadata.name : undefined;
  const displayName = def.scope === "Namespaced" && rawName !== undefined ? `${String((doc.metadata as Record<string, unknown>).namespace ?? opts.defaultNamespace ?? "default")}/${rawName}` : rawName;
  const issues: Issue[] = [];

  if (doc.apiVersion !== API_VERSION) {
    issues.push({ field: "apiVersion", reason: `${doc.apiVersion === undefined ? "missing" : JSON.stringify(doc.apiVersion)}; ${kind} is served as ${API_VERSION}` });
  }
  for (const key of Object.keys(doc)) if (!ROOT_FIELDS.has(key)) issues.push({ field: key, reason: `unknown field ${JSON.stringify(key)}` });

  const metadata = decodeMetadata(doc.metadata, def.scope === "Namespaced", opts, issues);
  const spec = doc.spec === undefined || doc.spec === null ? (issues.push({ field: "spec", reason: "required field is missing" }), undefined) : validateValue(def.spec, doc.spec, "spec", issues);
  const status = doc.status === undefined || doc.status === null ? undefined : validateValue(def.status, doc.status, "status", issues);
  if (metadata && def.metadataName && typeof metadata.name === "string") validateValue(def.metadataName, metadata.name, "metadata.name", issues);
  if (issues.length > 0) fail(opts, issues, kind, displayName);

  const out: Record<string, unknown> = { apiVersion: API_VERSION, kind, metadata, spec };
  if (status !== undefined) out.status = status;
  return out as unknown as SovereignObject;
}

function decodeKind<T extends SovereignObject>(kind: Kind, doc: unknown, opts: DecodeOptions): T {
  if (isPlainObject(doc) && doc.kind !== kind && typeof doc.kind === "string" && KIND_SET.has(doc.kind)) {
    fail(opts, [{ field: "kind", reason: `expected ${kind}, got ${JSON.stringify(doc.kind)}` }]);
  }
  return decodeObject(doc, opts) as T;
}

export const decodeMemberCluster = (doc: unknown, opts: DecodeOptions): MemberCluster => decodeKind<MemberCluster>("MemberCluster", doc, opts);
export const decodeResidencyPolicy = (doc: unknown, opts: DecodeOptions): ResidencyPolicy => decodeKind<ResidencyPolicy>("ResidencyPolicy", doc, opts);
export const decodeSovereignWorkload = (doc: unknown, opts: DecodeOptions): SovereignWorkload => decodeKind<SovereignWorkload>("SovereignWorkload", doc, opts);
