import { compareStrings } from "./order.ts";
import type { Reason } from "./reasons.ts";
import type { Rejection } from "./types.ts";

/**
 * kube-scheduler's "0/6 nodes are available" line: how many clusters remain usable,
 * then a histogram of reasons, most frequent first (a cluster with two reasons counts
 * in both), ties in name order so the line is stable.
 */
export function summarize({ total, available, rejected }: { total: number; available: number; rejected: readonly Rejection[] }): string {
  const counts = new Map<Reason, number>();
  for (const r of rejected) for (const reason of r.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const histogram = [...counts]
    .sort(([a, na], [b, nb]) => nb - na || compareStrings(a, b))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(", ");
  return `${available}/${total} clusters are available${histogram ? `: ${histogram}` : ""}.`;
}
