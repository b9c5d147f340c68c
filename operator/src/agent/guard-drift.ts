/**
 * The residency guard's objects as the agent keeps them: the admission policies and
 * bindings as shipped (charts/member-agent/files/residency-guard.yaml, with the
 * parameter in the agent's namespace), and the restores it made, which its heartbeats
 * carry to the control plane. Pure.
 */
import { parseAllDocuments } from "yaml";
import type { GuardRestore } from "../gen/sovereign/v1/heartbeat.ts";
import type { AdmissionObject, AdmissionObjectKind } from "../kube/index.ts";

const KINDS: readonly AdmissionObjectKind[] = ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"];

function record(x: unknown): Record<string, unknown> | undefined {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

/**
 * The policies and bindings of the guard's manifests, each binding's parameter moved to
 * `namespace` (as the chart's templates/guard.yaml does). Throws on anything else in the
 * file, or on none: the agent is started with it, and a wrong file must stop it there.
 */
export function parseGuardManifests(params: { text: string; namespace: string }): AdmissionObject[] {
  const out: AdmissionObject[] = [];
  for (const doc of parseAllDocuments(params.text)) {
    if (doc.errors.length) throw new Error(`the guard's manifests do not parse: ${doc.errors[0]!.message}`);
    const o = record(doc.toJS());
    if (!o) continue;
    const kind = o.kind as AdmissionObjectKind;
    const meta = record(o.metadata);
    const spec = record(o.spec);
    if (!KINDS.includes(kind) || o.apiVersion !== "admissionregistration.k8s.io/v1") throw new Error(`the guard's manifests hold ${String(o.apiVersion)} ${String(o.kind)}: only admissionregistration.k8s.io/v1 ${KINDS.join(" and ")}`);
    if (!meta || typeof meta.name !== "string" || !spec) throw new Error(`a ${kind} of the guard's manifests has no name or spec`);
    const paramRef = record(spec.paramRef);
    const labels = record(meta.labels) as Record<string, string> | undefined;
    out.push({
      kind,
      metadata: { name: meta.name, ...(labels ? { labels } : {}) },
      spec: paramRef ? { ...spec, paramRef: { ...paramRef, namespace: params.namespace } } : spec,
    });
  }
  if (out.length === 0) throw new Error("the guard's manifests hold no admission policy");
  return out;
}

/** JSON with sorted keys, so two specs compare by content. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => {
    const r = record(v);
    return r ? Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]])) : v;
  });
}

/** "deleted" when the object was missing, "edited" when its spec was not what the agent last stored (or, at start, what the server makes of the shipped one). */
export function guardChange(params: { observed: { spec: unknown } | undefined; stored: { spec: unknown } }): "deleted" | "edited" | undefined {
  if (!params.observed) return "deleted";
  return canonicalJson(params.observed.spec) === canonicalJson(params.stored.spec) ? undefined : "edited";
}

/**
 * The restores of the last `keepMs` (default a minute), at most `max` (default 16, the
 * newest): every heartbeat carries them, so the control plane, which reads only the
 * newest heartbeat, sees each one; it counts each once by its object and time.
 */
export class GuardDriftLog {
  readonly #keepMs: number;
  readonly #max: number;
  #entries: GuardRestore[] = [];

  constructor(params: { keepMs?: number; max?: number } = {}) {
    this.#keepMs = params.keepMs ?? 60_000;
    this.#max = params.max ?? 16;
  }

  record(restore: GuardRestore): void {
    this.#entries = [...this.#entries, restore].slice(-this.#max);
  }

  /** The restores still carried at `now`, oldest first. */
  recent(now: Date): GuardRestore[] {
    const since = now.getTime() - this.#keepMs;
    this.#entries = this.#entries.filter((e) => (e.restoredAt?.getTime() ?? 0) > since);
    return this.#entries.map((e) => ({ ...e }));
  }
}
