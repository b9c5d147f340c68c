// What the fuzz targets share: how many cases each runs, fast-check's parameters, the
// mutations applied to valid manifests, and small clients for the host API server and
// the control plane's health.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import fc from "fast-check";
import { parse } from "yaml";
export { until } from "../../support/until.ts";

/**
 * FUZZ_RUNS is the total for one run across all targets (1,000 in `npm test`, 100,000 in
 * `npm run fuzz`); each target takes its share. FUZZ_SEED replays a failure (fast-check
 * prints the seed and the counterexample's path).
 */
export const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
if (!Number.isInteger(TOTAL_RUNS) || TOTAL_RUNS < 4) throw new Error(`FUZZ_RUNS must be an integer of at least 4, got ${process.env.FUZZ_RUNS}`);

/** Share of the total per target: the in-process ones are cheap, the API server's cost a round trip and a delete. */
const SHARES = { apiServer: 0.3, simulate: 0.3, nats: 0.25, grpc: 0.15 } as const;

export function runsFor(target: keyof typeof SHARES): number {
  return Math.max(1, Math.round(TOTAL_RUNS * SHARES[target]));
}

export function fcParams(target: keyof typeof SHARES): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  return { numRuns: runsFor(target), endOnFailure: true, ...(seed ? { seed: Number(seed) } : {}), ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) };
}

/** A mocha timeout for a target's suite: a safety net that grows with the case count (100,000 take hours). */
export function suiteTimeout(target: keyof typeof SHARES): number {
  return 10 * 60_000 + runsFor(target) * 500;
}

/** Prints cases per second for each target, so the note can say what 100,000 takes. */
export function reportRate(target: string, runs: number, startedMs: number): void {
  const s = (performance.now() - startedMs) / 1000;
  console.log(`      fuzz ${target}: ${runs} cases in ${s.toFixed(1)} s (${(runs / s).toFixed(1)}/s)`);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Doc = Record<string, Json>;

/** Values that break a schema: wrong types, huge and unicode strings, extreme numbers, bad quantities and country codes. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("x".repeat(300), "é".repeat(70_000), "\u0000", "\u202eRF", "ＦＲ", "\u200b", "${HOME}", "../../etc/passwd", "true", "null", "1e400"),
  fc.integer(),
  fc.constantFrom(-1, 0, 1, -(2 ** 31), 2 ** 31, 2 ** 53, -(2 ** 53), 1e300, -1e300, 0.5, 1e-300),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  // Quantities: negative, too precise, unknown suffixes, overflowing.
  fc.constantFrom("-1", "1.5.5Gi", "10mm", "1e1000", "Ki", "0x10", "∞", "100Zi", "0.0000000001", "1 Gi", "", "9223372036854775808"),
  // Country codes and jurisdictions: unknown, lower case, look-alikes, a union.
  fc.constantFrom("XX", "fr", "EU", "ZZ", "F R", "FRA", "Fr", "\u0415U", "NONE", "UK"),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constantFrom("FR", "FR", "DE", "XX")), { maxLength: 70 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), { maxKeys: 4 }),
);

export type Mutation =
  | { op: "set"; path: string; value: Json }
  | { op: "delete"; path: string }
  | { op: "extra"; path: string; key: string; value: Json }
  | { op: "duplicate"; path: string };

type Segment = string | number;

/** Every path under `root` in `doc`, objects and lists included, as segments. */
function pathsOf(value: Json, at: Segment[]): Segment[][] {
  const out: Segment[][] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

/** As the API server prints a field path: spec.a.b[0].c. */
export function fieldPath(segments: readonly Segment[]): string {
  return segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function parentOf(doc: Doc, segments: readonly Segment[]): Record<string, Json> | Json[] | undefined {
  let cur: Json = doc;
  for (const s of segments.slice(0, -1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, Json>)[s as string] as Json;
  }
  return cur !== null && typeof cur === "object" ? cur : undefined;
}

const op = fc.oneof(
  { weight: 5, arbitrary: hostileValue.map((value) => ({ op: "set" as const, value })) },
  { weight: 2, arbitrary: fc.constant({ op: "delete" as const }) },
  { weight: 2, arbitrary: fc.tuple(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("status", "replicas", "__proto__", "constructor", "ﬀ")), hostileValue).map(([key, value]) => ({ op: "extra" as const, key, value })) },
  { weight: 1, arbitrary: fc.constant({ op: "duplicate" as const }) },
);

/**
 * One to three mutations of `base` under `roots` (metadata stays valid so a case names
 * only what it broke), each at a path picked among the base's own, applied in order;
 * a mutation whose path an earlier one removed is left out of the list.
 */
export function mutatedManifest(base: () => Doc, roots: readonly string[] = ["spec"]): fc.Arbitrary<{ doc: Doc; mutations: Mutation[] }> {
  const b = base();
  const paths = roots.flatMap((r) => (r in b ? pathsOf(b[r]!, [r]) : []));
  return fc.array(fc.tuple(fc.nat({ max: paths.length - 1 }), op), { minLength: 1, maxLength: 3 }).map((picks) => {
    const doc = base();
    const mutations: Mutation[] = [];
    for (const [i, o] of picks) {
      const segments = paths[i]!;
      const path = fieldPath(segments);
      const parent = parentOf(doc, segments);
      const last = segments.at(-1)!;
      if (!parent || !(last in parent)) continue;
      const target = (parent as Record<string, Json>)[last as string] as Json;
      if (o.op === "set") {
        (parent as Record<string, Json>)[last as string] = structuredClone(o.value);
        mutations.push({ op: "set", path, value: o.value });
      } else if (o.op === "delete") {
        if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last as string];
        mutations.push({ op: "delete", path });
      } else if (o.op === "extra") {
        if (target === null || typeof target !== "object" || Array.isArray(target)) continue;
        Object.defineProperty(target, o.key, { value: structuredClone(o.value), enumerable: true, writable: true, configurable: true });
        mutations.push({ op: "extra", path, key: o.key, value: o.value });
      } else {
        if (!Array.isArray(target) || target.length === 0) continue;
        target.push(structuredClone(target[0]!));
        mutations.push({ op: "duplicate", path });
      }
    }
    return { doc, mutations };
  });
}

/**
 * The fields a refusal may name for these mutations: the mutated path, or a field
 * inside it, for a value set or an entry duplicated; the path or its parent for a field
 * removed (a list shrunk by one, a required field gone) or added (an unknown field is
 * named as parent.key, and JSON escaping may mangle the key itself).
 */
export function fieldsNamed(mutations: readonly Mutation[]): string[] {
  const parent = (p: string) => p.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
  return mutations.flatMap((m) => (m.op === "set" || m.op === "duplicate" ? [m.path] : [m.path, parent(m.path)]));
}

/**
 * True when `message` names one of `fields` (the API server prints spec.a[0].b; a path may
 * also appear inside a longer one). A map's key is printed as labels[app] or labels.app.
 */
export function namesAField(message: string, fields: readonly string[]): boolean {
  const normalised = message.replace(/\[([^\]\d][^\]]*)\]/g, ".$1");
  return fields.some((f) => message.includes(f) || normalised.includes(f));
}

// --- the host API server, over HTTPS with the admin kubeconfig's token -------------------

interface Kubeconfig {
  clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  users: { user: { token: string } }[];
}

export interface HostHttp {
  send(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
}

export function hostHttp(kubeconfig: string): HostHttp {
  const k = parse(readFileSync(kubeconfig, "utf8")) as Kubeconfig;
  const server = new URL(k.clusters[0]!.cluster.server);
  const ca = Buffer.from(k.clusters[0]!.cluster["certificate-authority-data"], "base64");
  const token = k.users[0]!.user.token;
  return {
    send: (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = request(
          {
            host: server.hostname, port: server.port, path, method, ca,
            headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(data ? { "content-type": "application/json", "content-length": data.length } : {}) },
            timeout: 60_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
        req.on("error", reject);
        req.end(data);
      }),
  };
}

// --- the control plane's liveness -------------------------------------------------------

/** The control plane's process start time from its metrics: a crash and restart changes it. */
export async function controlPlaneStart(metricsUrl: string): Promise<number> {
  const health = await fetch(metricsUrl.replace(/\/metrics$/, "/healthz"));
  if (health.status !== 200) throw new Error(`control plane /healthz answered ${health.status}`);
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith("process_start_time_seconds "));
  if (!line) throw new Error("the control plane exports no process_start_time_seconds");
  return Number(line.split(" ")[1]);
}

/** Sum of a counter's samples (every label set) whose labels match `labels`. */
export async function counterSum(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.split(" ").at(-1));
  }
  return sum;
}

