// Reads the input documents of a simulation (kubectl sovereign simulate, gRPC Simulate) and checks them as a whole: each is a valid object of
// the API (the same rules as the CRDs), names are unique, and every policy a workload
// names is present. Any problem is an InputError naming the document and the field.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments, type Tags } from "yaml";
import { ApiValidationError, decodeObject } from "../api/index.ts";
import type { MemberCluster, ResidencyPolicy, SovereignObject, SovereignWorkload } from "../api/index.ts";
import { allocatableOf, podRequests, workloadKey } from "./adapt.ts";
import { InvalidQuantityError } from "./quantity.ts";

/** The input documents are wrong. The message names the document and field; retrying will not help. */
export class InputError extends Error {
  override readonly name = "InputError";
  readonly retryable = false;
}

export interface Inputs {
  clusters: MemberCluster[];
  policies: ResidencyPolicy[];
  workloads: SovereignWorkload[];
}

interface Sourced<T> {
  object: T;
  /** "crds/examples/x.yaml document 2" */
  source: string;
}

/** What reading the input needs from the outside world, injectable for tests. */
export interface InputReader {
  readFile(path: string): Promise<string>;
  /** YAML/JSON files of a directory, in name order; undefined when `path` is not a directory. */
  listDirectory(path: string): Promise<string[] | undefined>;
  readStdin(): Promise<string>;
}

const MANIFEST = /\.(ya?ml|json)$/;

export const fileSystemReader: InputReader = {
  readFile: (path) => readFile(path, "utf8"),
  listDirectory: async (path) => {
    if (!(await stat(path)).isDirectory()) return undefined;
    return (await readdir(path)).filter((f) => MANIFEST.test(f)).sort().map((f) => join(path, f));
  },
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

function describeObject(object: SovereignObject): string {
  return object.kind === "SovereignWorkload" ? `SovereignWorkload ${workloadKey(object)}` : `${object.kind} ${object.metadata.name}`;
}

/**
 * Manifests meant for `kubectl apply -f DIR` carry the Namespaces their workloads live
 * in; a simulation has no use for them, and refusing them would make the same directory
 * unusable here. Every other kind outside the API is an error.
 */
function isNamespace(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { apiVersion?: unknown }).apiVersion === "v1" && (value as { kind?: unknown }).kind === "Namespace";
}

/**
 * Read YAML as kubectl does, so that simulate accepts exactly what `kubectl apply` would
 * send: YAML 1.1 (an unquoted NO is the boolean false), but timestamps stay strings
 * (kubectl's YAML-to-JSON keeps their text; turning them into dates here would cut an
 * unquoted `validUntil: 2026-11-27T23:00:00-05:00` to a day the API server never sees).
 */
const KUBECTL_YAML = {
  version: "1.1",
  customTags: (tags: Tags) => tags.filter((t) => typeof t === "string" || t.tag !== "tag:yaml.org,2002:timestamp"),
} as const;

function documentsOf(text: string, file: string): Sourced<SovereignObject>[] {
  const out: Sourced<SovereignObject>[] = [];
  parseAllDocuments(text, KUBECTL_YAML).forEach((doc, i) => {
    const source = `${file} document ${i + 1}`;
    const error = doc.errors[0];
    if (error) {
      // yaml's message ends with the position and a snippet; say the position once, up front.
      const at = error.linePos?.[0];
      const what = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "");
      throw new InputError(`${source}: invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ""}: ${what}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing ---
    if (isNamespace(value)) return;
    try {
      out.push({ object: decodeObject(value, { source }), source });
    } catch (err) {
      if (err instanceof ApiValidationError) throw new InputError(err.message, { cause: err });
      throw err;
    }
  });
  return out;
}

async function expand(paths: readonly string[], reader: InputReader): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (path === "-") {
      files.push(path);
      continue;
    }
    let listed: string[] | undefined;
    try {
      listed = await reader.listDirectory(path);
    } catch (err) {
      throw new InputError(`${path}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    files.push(...(listed ?? [path]));
  }
  return files;
}

function unique<T extends SovereignObject>(items: readonly Sourced<T>[], key: (o: T) => string): void {
  const seen = new Map<string, string>();
  for (const { object, source } of items) {
    const k = key(object);
    const first = seen.get(k);
    if (first) throw new InputError(`${source} (${describeObject(object)}): metadata.name: ${object.kind} ${k} is already defined in ${first}`);
    seen.set(k, source);
  }
}

/** Checks what the schema cannot: quantities that adapters read, and references between documents. */
function checkConsistency(clusters: Sourced<MemberCluster>[], policies: Sourced<ResidencyPolicy>[], workloads: Sourced<SovereignWorkload>[]): void {
  const withContext = (item: Sourced<SovereignObject>, read: () => void) => {
    try {
      read();
    } catch (err) {
      if (err instanceof InvalidQuantityError) throw new InputError(`${item.source} (${describeObject(item.object)}): ${err.message}`, { cause: err });
      throw err;
    }
  };
  for (const c of clusters) withContext(c, () => allocatableOf(c.object));
  const policyNames = new Set(policies.map((p) => p.object.metadata.name));
  for (const w of workloads) {
    withContext(w, () => podRequests(w.object.spec.template.spec));
    const ref = w.object.spec.residencyPolicy;
    if (ref !== undefined && !policyNames.has(ref)) {
      throw new InputError(`${w.source} (${describeObject(w.object)}): spec.residencyPolicy: ResidencyPolicy "${ref}" is not in the input`);
    }
  }
}

export async function loadInputs({ paths, reader }: { paths: readonly string[]; reader: InputReader }): Promise<Inputs> {
  const docs: Sourced<SovereignObject>[] = [];
  for (const file of await expand(paths, reader)) {
    let text: string;
    try {
      text = file === "-" ? await reader.readStdin() : await reader.readFile(file);
    } catch (err) {
      throw new InputError(`${file}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    docs.push(...documentsOf(text, file === "-" ? "(stdin)" : file));
  }
  const of = <K extends SovereignObject["kind"]>(kind: K) => docs.filter((d): d is Sourced<Extract<SovereignObject, { kind: K }>> => d.object.kind === kind);
  const clusters = of("MemberCluster");
  const policies = of("ResidencyPolicy");
  const workloads = of("SovereignWorkload");
  unique(clusters, (o) => o.metadata.name);
  unique(policies, (o) => o.metadata.name);
  unique(workloads, workloadKey);
  checkConsistency(clusters, policies, workloads);
  return { clusters: clusters.map((d) => d.object), policies: policies.map((d) => d.object), workloads: workloads.map((d) => d.object) };
}
