/**
 * The residency guard's drift as a member's heartbeats report it: each restore is carried
 * in every heartbeat for a while (the control plane reads only the newest), so it is
 * counted once, by its object and time, against the restores the previous heartbeat
 * carried. Pure; bounded: a member cannot grow what the control plane keeps.
 */
import { createHash } from "node:crypto";
import type { GuardRestore } from "../../gen/sovereign/v1/heartbeat.ts";

/** Restores taken from one heartbeat; the rest of a flooding heartbeat is ignored. */
export const MAX_GUARD_RESTORES = 16;
const OBJECT = /^(ConfigMap|ValidatingAdmissionPolicy|ValidatingAdmissionPolicyBinding)\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const CHANGES = ["deleted", "edited"] as const;

export interface GuardDriftSeen {
  /** The new restores, valid ones only, oldest first. */
  fresh: { object: string; change: string; restoredAt: Date }[];
  /** The keys to remember until the next heartbeat. */
  seen: Set<string>;
}

/**
 * The restores in `reported` not in `seen`. An entry with an object that is not one of
 * the guard's kinds, a change other than deleted/edited or no time is dropped (it would
 * end up in an Event message).
 */
export function freshGuardRestores(params: { reported: readonly GuardRestore[]; seen: ReadonlySet<string> }): GuardDriftSeen {
  const fresh: GuardDriftSeen["fresh"] = [];
  const seen = new Set<string>();
  for (const r of params.reported.slice(0, MAX_GUARD_RESTORES)) {
    if (!OBJECT.test(r.object) || !(CHANGES as readonly string[]).includes(r.change) || !r.restoredAt || Number.isNaN(r.restoredAt.getTime())) continue;
    const key = `${r.object}\u0000${r.change}\u0000${r.restoredAt.getTime()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!params.seen.has(key)) fresh.push({ object: r.object, change: r.change, restoredAt: r.restoredAt });
  }
  fresh.sort((a, b) => a.restoredAt.getTime() - b.restoredAt.getTime());
  return { fresh, seen };
}

/**
 * The Event name of one restore: the same for every heartbeat that carries it and for
 * every control plane that reads it, so a restarted control plane or a new leader
 * re-reading the last minute of restores records each once. A DNS subdomain:
 * `<cluster>.guard-restored.<16 hex>` (a cluster name is a DNS label of at most 63).
 */
export function guardRestoreEventName(params: { cluster: string; object: string; change: string; restoredAt: Date }): string {
  const digest = createHash("sha256").update(`${params.object}\u0000${params.change}\u0000${params.restoredAt.getTime()}`).digest("hex").slice(0, 16);
  return `${params.cluster}.guard-restored.${digest}`;
}

/**
 * The Event message of one restore. A deleted policy or binding also says what the agent
 * cannot put back: kube-apiserver stops reading the guard's ConfigMap parameter at the
 * first policy refresh without such a binding and never starts again
 * (kubernetes/kubernetes#133827, charts/member-agent/README.md), so only a restart of the
 * member's kube-apiserver makes the guard follow the member's facts again.
 */
export function guardRestoreMessage(r: { object: string; change: string; restoredAt: Date }): string {
  const base = `residency guard ${r.object} was ${r.change} on the member; its agent restored it at ${r.restoredAt.toISOString()}`;
  if (r.change !== "deleted" || r.object.startsWith("ConfigMap/")) return base;
  return `${base}; restart the member's kube-apiserver: until then it keeps the guard's parameter as it was at the deletion, or none (kubernetes/kubernetes#133827)`;
}
