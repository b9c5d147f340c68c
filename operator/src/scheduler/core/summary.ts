import { compareStrings } from "./order.ts";
import { countReasons, REASON_COUNT, reasonAt, REASON_SET_COUNT, type ReasonSet } from "./reasons.ts";

/**
 * kube-scheduler's "0/6 nodes are available" line: how many clusters remain usable,
 * then a histogram of reasons, most frequent first (a cluster with two reasons counts
 * in both), ties in name order so the line is stable.
 */
export function summarize({ total, available, verdicts }: { total: number; available: number; verdicts: ArrayLike<ReasonSet> }): string {
  // Count each distinct set once, then its reasons: clusters mostly fail in few ways.
  const perSet = new Int32Array(REASON_SET_COUNT);
  for (let i = 0; i < verdicts.length; i++) perSet[verdicts[i]!]! += 1;
  const counts = new Int32Array(REASON_COUNT);
  for (let set = 1; set < REASON_SET_COUNT; set++) if (perSet[set]! > 0) countReasons(set, counts, perSet[set]!);
  const histogram: [string, number][] = [];
  counts.forEach((n, bit) => {
    if (n > 0) histogram.push([reasonAt(bit), n]);
  });
  histogram.sort(([a, na], [b, nb]) => nb - na || compareStrings(a, b));
  const text = histogram.map(([reason, n]) => `${n} ${reason}`).join(", ");
  return `${available}/${total} clusters are available${text ? `: ${text}` : ""}.`;
}
