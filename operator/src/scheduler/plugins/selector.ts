import { ReasonBit, compileClusterSelector, type FilterPlugin, type LabelSelector } from "../core/index.ts";

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
    return (snapshot, verdicts) => {
      for (const selector of selectors) {
        const matches = compileClusterSelector({ selector, snapshot, now });
        for (let i = 0; i < snapshot.clusters.length; i++) if (!matches(i)) verdicts[i]! |= ReasonBit.SelectorMismatch;
      }
    };
  },
};
