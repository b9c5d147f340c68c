import assert from "node:assert/strict";
import type { ResidencyConstraints } from "../../../../operator/src/scheduler/index.ts";
import { exposure } from "../../../../operator/src/scheduler/plugins/exposure.ts";
import { cluster, request, runFilter } from "../builders.ts";

describe("ExtraterritorialExposure filter", () => {
  const cases: { name: string; laws: string[]; constraints: ResidencyConstraints[]; want: string[] | null }[] = [
    { name: "skips when exposure is not forbidden", laws: ["US-CLOUD-Act"], constraints: [{ forbidExtraterritorialExposure: false }], want: null },
    { name: "passes an unexposed cluster when exposure is forbidden", laws: [], constraints: [{ forbidExtraterritorialExposure: true }], want: [] },
    { name: "rejects a cluster exposed to the US CLOUD Act", laws: ["US-CLOUD-Act"], constraints: [{ forbidExtraterritorialExposure: true }], want: ["ExtraterritorialExposure"] },
    { name: "rejects any law, known or not", laws: ["XX-Some-Law"], constraints: [{ forbidExtraterritorialExposure: true }], want: ["ExtraterritorialExposure"] },
    { name: "forbids when only the inline constraints forbid", laws: ["US-FISA-702"], constraints: [{ forbidExtraterritorialExposure: false }, { forbidExtraterritorialExposure: true }], want: ["ExtraterritorialExposure"] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(runFilter(exposure, { cluster: cluster({ extraterritorialExposure: c.laws }), request: request({ constraints: c.constraints }) }), c.want));
  }
});
