import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS } from "../core/reasons.ts";
import type { Taint, Toleration } from "../core/types.ts";

export const TaintEffect = {
  NoSchedule: "NoSchedule",
  PreferNoSchedule: "PreferNoSchedule",
  NoExecute: "NoExecute",
} as const;

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

function blocks(taint: Taint): boolean {
  return taint.effect === TaintEffect.NoSchedule || taint.effect === TaintEffect.NoExecute;
}

/** Cluster taints work like node taints: NoSchedule/NoExecute keep out what does not tolerate them. */
export const taints: FilterPlugin = {
  name: "TaintToleration",
  prepare: ({ request }) => {
    const tolerations = request.tolerations;
    return (cluster) => {
      for (const taint of cluster.view.taints) {
        if (blocks(taint) && !tolerations.some((t) => tolerates(t, taint))) return only.Tainted;
      }
      return PASS;
    };
  },
};
