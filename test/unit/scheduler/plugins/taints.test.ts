import assert from "node:assert/strict";
import type { Taint, Toleration } from "../../../../operator/src/scheduler/index.ts";
import { taints, tolerates } from "../../../../operator/src/scheduler/plugins/taints.ts";
import { cluster, request, runFilter } from "../builders.ts";

const maintenance: Taint = { key: "maintenance", value: "true", effect: "NoSchedule" };

describe("TaintToleration filter", () => {
  const cases: { name: string; taints: Taint[]; tolerations: Toleration[]; want: string[] }[] = [
    { name: "passes an untainted cluster", taints: [], tolerations: [], want: [] },
    { name: "rejects a NoSchedule taint that is not tolerated", taints: [maintenance], tolerations: [], want: ["Tainted"] },
    { name: "rejects a NoExecute taint that is not tolerated", taints: [{ key: "evacuate", effect: "NoExecute" }], tolerations: [], want: ["Tainted"] },
    { name: "ignores PreferNoSchedule, which only discourages", taints: [{ key: "busy", effect: "PreferNoSchedule" }], tolerations: [], want: [] },
    { name: "passes when Equal matches key and value", taints: [maintenance], tolerations: [{ key: "maintenance", operator: "Equal", value: "true" }], want: [] },
    { name: "defaults the operator to Equal", taints: [maintenance], tolerations: [{ key: "maintenance", value: "true" }], want: [] },
    { name: "rejects when Equal's value differs", taints: [maintenance], tolerations: [{ key: "maintenance", value: "false" }], want: ["Tainted"] },
    { name: "passes when Exists matches the key whatever the value", taints: [maintenance], tolerations: [{ key: "maintenance", operator: "Exists" }], want: [] },
    { name: "passes when an empty key with Exists tolerates everything", taints: [maintenance, { key: "x", effect: "NoExecute" }], tolerations: [{ operator: "Exists" }], want: [] },
    { name: "rejects when an empty key with Equal tolerates nothing", taints: [maintenance], tolerations: [{ operator: "Equal" }], want: ["Tainted"] },
    { name: "rejects when the toleration is for another effect", taints: [maintenance], tolerations: [{ key: "maintenance", operator: "Exists", effect: "NoExecute" }], want: ["Tainted"] },
    { name: "passes when the toleration names the same effect", taints: [maintenance], tolerations: [{ key: "maintenance", operator: "Exists", effect: "NoSchedule" }], want: [] },
    { name: "rejects when one of two taints is not tolerated", taints: [maintenance, { key: "gpu", effect: "NoSchedule" }], tolerations: [{ key: "maintenance", operator: "Exists" }], want: ["Tainted"] },
    { name: "rejects an operator it does not know", taints: [maintenance], tolerations: [{ key: "maintenance", operator: "Matches" }], want: ["Tainted"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(runFilter(taints, { cluster: cluster({ taints: c.taints }), request: request({ tolerations: c.tolerations }) }), c.want);
    });
  }

  it("matches core/v1 ToleratesTaint on a value-less taint", () => {
    assert.equal(tolerates({ key: "k", operator: "Equal" }, { key: "k", effect: "NoSchedule" }), true);
    assert.equal(tolerates({ key: "k", operator: "Equal", value: "v" }, { key: "k", effect: "NoSchedule" }), false);
  });
});
