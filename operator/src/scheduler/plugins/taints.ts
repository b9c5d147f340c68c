import { ReasonBit, type FilterPlugin, type Taint, type Toleration } from "../core/index.ts";

export { TaintEffect } from "../core/index.ts";

export const TolerationOperator = { Equal: "Equal", Exists: "Exists" } as const;

/** core/v1 semantics (k8s.io/api/core/v1 Toleration.ToleratesTaint). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  const operator = toleration.operator || TolerationOperator.Equal;
  // An empty key with Exists tolerates every taint; with Equal it tolerates none.
  if (!toleration.key) return operator === TolerationOperator.Exists;
  if (toleration.key !== taint.key) return false;
  if (operator === TolerationOperator.Exists) return true;
  if (operator === TolerationOperator.Equal) return (toleration.value ?? "") === (taint.value ?? "");
  return false;
}

/**
 * Cluster taints work like node taints: NoSchedule/NoExecute keep out what does not
 * tolerate them (PreferNoSchedule only discourages, so it never rejects).
 */
export const taints: FilterPlugin = {
  name: "TaintToleration",
  prepare: ({ request }) => {
    const tolerations = request.tolerations;
    return ({ clusters, columns: { tainted } }, verdicts) => {
      for (let i = 0; i < tainted.length; i++) {
        if (tainted[i] === 1 && !clusters[i]!.blockingTaints.every((taint) => tolerations.some((t) => tolerates(t, taint)))) verdicts[i]! |= ReasonBit.Tainted;
      }
    };
  },
};
