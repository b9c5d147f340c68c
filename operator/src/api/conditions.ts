// metav1.Condition helpers with the semantics of apimachinery's meta.SetStatusCondition:
// lastTransitionTime moves only when status changes, so "since when is this cluster
// NotReady" survives every reconcile that merely repeats the verdict.
import type { Condition, ConditionStatus } from "./types.ts";

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** The metadata.generation the verdict was computed from. */
  observedGeneration: number;
}

/** metav1.Time: RFC 3339 with second precision, UTC. */
export function formatTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "True";
}

/** metav1.Condition.message's limit in the CRDs (`maxLength: 32768`), counted here in UTF-8 bytes (never fewer than characters). */
export const CONDITION_MESSAGE_MAX_BYTES = 32_768;

/**
 * A message the API server accepts: one longer than the limit is cut (never inside a
 * character) and says how much was left out. A message built from user input (every
 * violation of a pod template, say) can be longer, and the status write of the whole
 * object would be refused with it.
 */
export function conditionMessage(message: string, maxBytes = CONDITION_MESSAGE_MAX_BYTES): string {
  // Every reconcile sets conditions: no encoding for the usual short message (a UTF-16 unit is at most 3 UTF-8 bytes).
  if (message.length * 3 <= maxBytes) return message;
  const bytes = Buffer.from(message, "utf8");
  if (bytes.length <= maxBytes) return message;
  const tail = (left: number) => ` … (${left} more bytes)`;
  let cut = maxBytes - Buffer.byteLength(tail(bytes.length));
  // Back to the start of a character: UTF-8 continuation bytes are 10xxxxxx.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString("utf8") + tail(bytes.length - cut);
}

/**
 * Returns the conditions with `update` applied (its message cut to the API's limit). lastTransitionTime is `now` for a new
 * condition or a changed status, and kept otherwise. When nothing changes, the very same
 * array is returned, so `next !== prev` tells whether a status write is needed.
 */
export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, now: Date): readonly Condition[] {
  const list = conditions ?? [];
  update = { ...update, message: conditionMessage(update.message) };
  const index = list.findIndex((c) => c.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  if (!existing) return [...list, { ...update, lastTransitionTime: formatTime(now) }];
  const next: Condition = {
    type: update.type,
    status: update.status,
    observedGeneration: update.observedGeneration,
    lastTransitionTime: existing.status === update.status ? existing.lastTransitionTime : formatTime(now),
    reason: update.reason,
    message: update.message,
  };
  if (
    next.status === existing.status &&
    next.reason === existing.reason &&
    next.message === existing.message &&
    next.observedGeneration === existing.observedGeneration &&
    next.lastTransitionTime === existing.lastTransitionTime
  ) {
    return list;
  }
  return list.map((c, i) => (i === index ? next : c));
}

/** Returns the conditions without `type`; the same array if there was none. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): readonly Condition[] {
  const list = conditions ?? [];
  return list.some((c) => c.type === type) ? list.filter((c) => c.type !== type) : list;
}
