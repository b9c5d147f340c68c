/**
 * The agent's desired-versus-observed step for one workload, pure: from the newest
 * intent and what the member's caches hold (its Deployment, its namespace) plus what
 * the agent last applied, what to do so that the member matches the intent. The
 * reconciler does the I/O these plans describe; it never branches on what event woke it.
 */
import type { PlacementIntent } from "../gen/sovereign/v1/intent.ts";
import type { Deployment } from "../kube/index.ts";
import { appliedFrom, deploymentFor, InvalidIntentError } from "./deployment.ts";
import { quantityValue } from "./heartbeat.ts";

/** The workload's namespace as the agent knows it: "missing" also covers one it has not seen (not its own). */
export type NamespaceState = "present" | "terminating" | "missing";

/** The Deployment object (uid) and generation the agent's last apply returned. */
export interface LastApplied {
  objectUid: string;
  generation: number;
}

export interface DeploymentRef {
  namespace: string;
  name: string;
  uid: string;
}

export type WorkloadPlan =
  /** The member already matches (or there is nothing of the workload to remove). */
  | { action: "none"; why: string }
  /** Something is on its way out (the namespace, or a Deployment being deleted); its deletion brings the workload back. */
  | { action: "wait"; why: string }
  /**
   * Server-side apply `deployment`. `force` only for the agent's own Deployment (a field
   * someone else set is taken back); without it an unmanaged Deployment of that name
   * makes the apply fail instead of being taken over. `ensureNamespace`: create the
   * namespace first. `deleteFirst`: another workload's Deployment holds the name.
   */
  | { action: "apply"; deployment: Deployment; force: boolean; ensureNamespace: boolean; deleteFirst?: DeploymentRef; drift: string[] }
  /** No intent, or a zero one: remove the workload's Deployments (uid preconditions). */
  | { action: "delete"; targets: DeploymentRef[]; why: string }
  /** The Deployment was applied from an intent decided after this one: a newer intent is on its way. */
  | { action: "stale"; why: string }
  /** The intent cannot become a Deployment; retrying the same intent cannot help. */
  | { action: "invalid"; error: InvalidIntentError };

function refOf(d: Deployment): DeploymentRef {
  return { namespace: d.metadata.namespace ?? "", name: d.metadata.name, uid: d.metadata.uid ?? "" };
}

/** What to do for one workload. `intent` is the newest the agent holds for its uid, if any. */
export function planWorkload(params: {
  intent: PlacementIntent | undefined;
  /** The Deployments in the cache labelled with this workload's uid (normally none or one). */
  own: readonly Deployment[];
  /** The Deployment the cache holds at the intent's namespace/name (it may be another workload's). */
  atName: Deployment | undefined;
  namespace: NamespaceState;
  lastApplied?: LastApplied;
}): WorkloadPlan {
  const { intent } = params;
  if (!intent || intent.replicas <= 0) {
    const targets = params.own.filter((d) => !d.metadata.deletionTimestamp).map(refOf);
    const why = intent ? "the intent asks for zero replicas" : "no intent for this workload";
    return targets.length > 0 ? { action: "delete", targets, why } : { action: "none", why };
  }
  let desired: Deployment;
  try {
    desired = deploymentFor(intent);
  } catch (err) {
    if (err instanceof InvalidIntentError) return { action: "invalid", error: err };
    throw err;
  }
  const uid = intent.workload!.uid;
  if (params.namespace === "terminating") return { action: "wait", why: `namespace ${desired.metadata.namespace} is being deleted` };
  const current = params.atName;
  const applied = appliedFrom(current);
  if (!current || !applied) {
    // Not in the cache of the agent's Deployments: absent, or someone else's (the apply
    // without force fails then, and the reconciler reports it).
    return { action: "apply", deployment: desired, force: false, ensureNamespace: params.namespace === "missing", drift: ["the Deployment is missing"] };
  }
  if (current.metadata.deletionTimestamp) return { action: "wait", why: `Deployment ${refOf(current).namespace}/${current.metadata.name} is being deleted` };
  if (applied.workload.uid !== uid) {
    return {
      action: "apply", deployment: desired, force: false, ensureNamespace: false, deleteFirst: refOf(current),
      drift: [`the name is held by the Deployment of workload uid ${applied.workload.uid}`],
    };
  }
  const decidedAt = intent.decidedAt?.getTime() ?? 0;
  if (decidedAt < applied.decidedAt) return { action: "stale", why: "the Deployment was applied from an intent decided after this one" };
  const last = params.lastApplied;
  const sameObject = last !== undefined && last.objectUid === current.metadata.uid;
  // Older than what the agent's own apply returned: the cache has not caught up yet (the
  // newer version's event is on its way and brings the workload back).
  if (sameObject && (current.metadata.generation ?? 0) < last.generation) return { action: "none", why: "the cache is behind the last apply" };
  // Only a change of spec moves the generation: at the one the agent's apply returned,
  // the spec is what it applied, whatever defaults or normalisation the server added.
  const specTrusted = sameObject && current.metadata.generation === last.generation;
  const drift = driftOf({ desired, live: current, compareSpec: !specTrusted });
  return drift.length > 0
    ? { action: "apply", deployment: desired, force: true, ensureNamespace: false, drift }
    : { action: "none", why: "the Deployment matches the intent" };
}

/**
 * Where the live Deployment departs from the desired one, as field paths with both
 * values. Server-side apply semantics: only fields the agent sets count (the API server
 * adds defaults, other managers may add fields the agent does not own), a zero value the
 * server omits equals an absent one, and quantities compare by value ("1Gi" = "1024Mi").
 */
export function driftOf(params: { desired: Deployment; live: Deployment; compareSpec: boolean }): string[] {
  const { desired, live } = params;
  const out: string[] = [];
  diff(desired.metadata.labels, live.metadata.labels, "metadata.labels", out);
  diff(desired.metadata.annotations, live.metadata.annotations, "metadata.annotations", out);
  if (params.compareSpec) {
    if (desired.spec.replicas !== live.spec.replicas) out.push(`spec.replicas: ${live.spec.replicas}, want ${desired.spec.replicas}`);
    diff(desired.spec.selector, live.spec.selector, "spec.selector", out);
    diff(desired.spec.template, live.spec.template, "spec.template", out);
  }
  return out;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** What Go's omitempty leaves out of the stored object. */
function isZero(x: unknown): boolean {
  if (x === undefined || x === null || x === "" || x === 0 || x === false) return true;
  if (Array.isArray(x)) return x.length === 0;
  if (isRecord(x)) return Object.values(x).every(isZero);
  return false;
}

const show = (x: unknown) => JSON.stringify(x) ?? "absent";

function diff(want: unknown, have: unknown, path: string, out: string[]): void {
  if (have === undefined || have === null) {
    if (!isZero(want)) out.push(`${path}: absent, want ${show(want)}`);
    return;
  }
  if (isRecord(want)) {
    if (!isRecord(have)) return void out.push(`${path}: ${show(have)}, want an object`);
    for (const [k, v] of Object.entries(want)) diff(v, have[k], `${path}.${k}`, out);
    return;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return void out.push(`${path}: ${show(have)}, want a list`);
    const keyed = want.length > 0 && want.every((x) => isRecord(x) && typeof x.name === "string");
    if (keyed) {
      // Lists of named items (containers, env, volumes) merge by name under server-side
      // apply: items others added stay, so only the agent's items are compared.
      for (const item of want as Record<string, unknown>[]) {
        const match = (have as unknown[]).find((h) => isRecord(h) && h.name === item.name);
        if (match === undefined) out.push(`${path}[${String(item.name)}]: absent`);
        else diff(item, match, `${path}[${String(item.name)}]`, out);
      }
      return;
    }
    if (want.some(isRecord)) {
      if (have.length < want.length) return void out.push(`${path}: ${have.length} items, want ${want.length}`);
      want.forEach((item, i) => diff(item, have[i], `${path}[${i}]`, out));
      return;
    }
    // Lists of plain values (command, args) are replaced whole by an apply.
    if (show(want) !== show(have)) out.push(`${path}: ${show(have)}, want ${show(want)}`);
    return;
  }
  if (want === have) return;
  if (want === undefined || want === null) return;
  if (typeof want === "string" && typeof have === "string" && path.includes(".resources.")) {
    const a = quantityValue(want);
    const b = quantityValue(have);
    if (Number.isFinite(a) && a === b) return;
  }
  out.push(`${path}: ${show(have)}, want ${show(want)}`);
}
