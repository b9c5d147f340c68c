import assert from "node:assert/strict";
import { readiness } from "../../../../operator/src/scheduler/plugins/readiness.ts";
import { cluster, runFilter } from "../builders.ts";

describe("Readiness filter", () => {
  const cases = [
    { name: "passes a Ready cluster", ready: true, want: [] },
    { name: "rejects a cluster that is not Ready as NotReady", ready: false, want: ["NotReady"] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(runFilter(readiness, { cluster: cluster({ ready: c.ready }) }), c.want));
  }
});
