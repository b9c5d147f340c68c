import assert from "node:assert/strict";
import type { Certification, LabelSelector } from "../../../../operator/src/scheduler/index.ts";
import { clusterSelector } from "../../../../operator/src/scheduler/plugins/selector.ts";
import { cluster, request, runFilter } from "../builders.ts";

const hds: Certification = { name: "HDS", version: "1.0", validUntil: "2027-06-30" };
const expiredHds: Certification = { name: "HDS", version: "1.0", validUntil: "2025-06-30" };

describe("ClusterSelector filter", () => {
  const cases: { name: string; labels?: Record<string, string>; country?: string; laws?: string[]; certs?: Certification[]; selectors: LabelSelector[]; want: string[] | null }[] = [
    { name: "skips when no selector is given", selectors: [], want: null },
    { name: "passes an empty selector (matches everything)", selectors: [{}], want: [] },
    { name: "passes matching matchLabels", labels: { tier: "gold" }, selectors: [{ matchLabels: { tier: "gold" } }], want: [] },
    { name: "rejects differing matchLabels as SelectorMismatch", labels: { tier: "silver" }, selectors: [{ matchLabels: { tier: "gold" } }], want: ["SelectorMismatch"] },
    { name: "selects on the mirrored country label", country: "DE", selectors: [{ matchLabels: { "residency.sovereignty.eu/country": "DE" } }], want: [] },
    { name: "selects on the mirrored certification label when it is valid", certs: [hds], selectors: [{ matchLabels: { "certification.sovereignty.eu/hds": "1.0" } }], want: [] },
    { name: "does not see the label of an expired certification", certs: [expiredHds], selectors: [{ matchExpressions: [{ key: "certification.sovereignty.eu/hds", operator: "Exists" }] }], want: ["SelectorMismatch"] },
    { name: "ignores a hand-set label that claims a certification", labels: { "certification.sovereignty.eu/hds": "1.0" }, selectors: [{ matchLabels: { "certification.sovereignty.eu/hds": "1.0" } }], want: ["SelectorMismatch"] },
    { name: "ignores a hand-set label that claims another country", country: "DE", labels: { "residency.sovereignty.eu/country": "FR" }, selectors: [{ matchLabels: { "residency.sovereignty.eu/country": "FR" } }], want: ["SelectorMismatch"] },
    { name: "selects unexposed clusters with the exposure label", laws: [], selectors: [{ matchLabels: { "residency.sovereignty.eu/extraterritorial-exposure": "none" } }], want: [] },
    { name: "rejects exposed clusters with the exposure label", laws: ["US-CLOUD-Act"], selectors: [{ matchLabels: { "residency.sovereignty.eu/extraterritorial-exposure": "none" } }], want: ["SelectorMismatch"] },
    { name: "passes In when the value is listed", labels: { tier: "gold" }, selectors: [{ matchExpressions: [{ key: "tier", operator: "In", values: ["gold", "silver"] }] }], want: [] },
    { name: "rejects In when the label is absent", selectors: [{ matchExpressions: [{ key: "tier", operator: "In", values: ["gold"] }] }], want: ["SelectorMismatch"] },
    { name: "passes NotIn when the label is absent", selectors: [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }], want: [] },
    { name: "rejects NotIn when the value is listed", labels: { tier: "gold" }, selectors: [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }], want: ["SelectorMismatch"] },
    { name: "passes Exists when the label is present, even empty", labels: { tier: "" }, selectors: [{ matchExpressions: [{ key: "tier", operator: "Exists" }] }], want: [] },
    { name: "rejects DoesNotExist when the label is present", labels: { tier: "gold" }, selectors: [{ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }], want: ["SelectorMismatch"] },
    { name: "rejects an unknown operator (fail closed)", labels: { tier: "gold" }, selectors: [{ matchExpressions: [{ key: "tier", operator: "Gt", values: ["1"] }] }], want: ["SelectorMismatch"] },
    { name: "requires matchLabels and matchExpressions both", labels: { tier: "gold" }, selectors: [{ matchLabels: { tier: "gold" }, matchExpressions: [{ key: "zone", operator: "Exists" }] }], want: ["SelectorMismatch"] },
    { name: "requires the policy's and the inline selector both", labels: { tier: "gold" }, selectors: [{ matchLabels: { tier: "gold" } }, { matchLabels: { tier: "silver" } }], want: ["SelectorMismatch"] },
    { name: "does not read inherited properties as labels", selectors: [{ matchExpressions: [{ key: "constructor", operator: "Exists" }] }], want: ["SelectorMismatch"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = cluster({ labels: c.labels ?? {}, country: c.country ?? "FR", extraterritorialExposure: c.laws ?? [], certifications: c.certs ?? [] });
      const constraints = c.selectors.map((clusterSelector) => ({ clusterSelector }));
      assert.deepEqual(runFilter(clusterSelector, { cluster: view, request: request({ constraints }) }), c.want);
    });
  }
});
