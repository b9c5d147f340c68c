import type { LabelSelector } from "./types.ts";

export const SelectorOperator = {
  In: "In",
  NotIn: "NotIn",
  Exists: "Exists",
  DoesNotExist: "DoesNotExist",
} as const;
export type SelectorOperator = (typeof SelectorOperator)[keyof typeof SelectorOperator];

/** Reads one label; undefined when absent. */
export type LabelLookup = (key: string) => string | undefined;

/**
 * metav1.LabelSelector semantics: every matchLabels entry and every expression must
 * hold; an empty selector matches everything. An operator we do not know matches
 * nothing, since guessing could widen where replicas may go.
 */
export function matchesSelector(selector: LabelSelector, label: LabelLookup): boolean {
  if (selector.matchLabels) {
    for (const key in selector.matchLabels) {
      if (!Object.hasOwn(selector.matchLabels, key)) continue;
      if (label(key) !== selector.matchLabels[key]) return false;
    }
  }
  for (const req of selector.matchExpressions ?? []) {
    const value = label(req.key);
    switch (req.operator) {
      case SelectorOperator.In:
        if (value === undefined || !(req.values ?? []).includes(value)) return false;
        break;
      case SelectorOperator.NotIn:
        if (value !== undefined && (req.values ?? []).includes(value)) return false;
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
}

/** Same semantics over a plain map, for callers outside the hot path. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return matchesSelector(selector, (key) => (Object.hasOwn(labels, key) ? labels[key] : undefined));
}
