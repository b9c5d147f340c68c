import { labelReader, type ClusterLabelReader } from "./labels.ts";
import type { Snapshot } from "./snapshot.ts";
import type { LabelSelector } from "./types.ts";

export const SelectorOperator = {
  In: "In",
  NotIn: "NotIn",
  Exists: "Exists",
  DoesNotExist: "DoesNotExist",
} as const;
export type SelectorOperator = (typeof SelectorOperator)[keyof typeof SelectorOperator];

interface CompiledRequirement {
  read: ClusterLabelReader;
  operator: string;
  values: ReadonlySet<string>;
}

/**
 * A selector over the snapshot's clusters (by index) at `now`, compiled once per
 * decision: each key's reader is resolved up front and each value list becomes a set.
 *
 * metav1.LabelSelector semantics: every matchLabels entry and every expression must
 * hold; an empty selector matches everything. An operator we do not know matches
 * nothing, since guessing could widen where replicas may go.
 */
export function compileClusterSelector({ selector, snapshot, now }: { selector: LabelSelector; snapshot: Snapshot; now: number }): (index: number) => boolean {
  const reqs: CompiledRequirement[] = [];
  const reader = (key: string) => labelReader({ snapshot, key, now });
  for (const key in selector.matchLabels ?? {}) {
    if (Object.hasOwn(selector.matchLabels!, key)) reqs.push({ read: reader(key), operator: SelectorOperator.In, values: new Set([selector.matchLabels![key]!]) });
  }
  for (const req of selector.matchExpressions ?? []) reqs.push({ read: reader(req.key), operator: req.operator, values: new Set(req.values ?? []) });
  return (index) => {
    for (let i = 0; i < reqs.length; i++) {
      const req = reqs[i]!;
      const value = req.read(index);
      switch (req.operator) {
        case SelectorOperator.In:
          if (value === undefined || !req.values.has(value)) return false;
          break;
        case SelectorOperator.NotIn:
          if (value !== undefined && req.values.has(value)) return false;
          break;
        case SelectorOperator.Exists:
          if (value === undefined) return false;
          break;
        case SelectorOperator.DoesNotExist:
          if (value !== undefined) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  };
}
