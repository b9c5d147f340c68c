import type { FilterPlugin } from "../core/framework.ts";
import { labelValue } from "../core/labels.ts";
import { only, PASS } from "../core/reasons.ts";
import { matchesSelector } from "../core/selector.ts";
import type { LabelSelector } from "../core/types.ts";

/**
 * The cluster must match every `clusterSelector`, over its own labels plus the
 * residency labels computed at "now" (so `certification.sovereignty.eu/hds` selects
 * only clusters whose HDS certification is valid today).
 */
export const clusterSelector: FilterPlugin = {
  name: "ClusterSelector",
  prepare: ({ request, now }) => {
    const selectors = request.constraints.map((c) => c.clusterSelector).filter((s): s is LabelSelector => s !== undefined);
    if (selectors.length === 0) return null;
    return (cluster) => {
      const lookup = (key: string): string | undefined => labelValue(cluster, key, now);
      for (const s of selectors) if (!matchesSelector(s, lookup)) return only.SelectorMismatch;
      return PASS;
    };
  },
};
