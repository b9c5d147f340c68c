import assert from "node:assert/strict";
import { bytes, InvalidQuantityError, milliCores, parseQuantity, podCount } from "../../../operator/src/scheduler/quantity.ts";

describe("resource quantities", () => {
  const cases = [
    { value: "500m", cores: 500 },
    { value: "2", cores: 2_000 },
    { value: "0.1", cores: 100 },
    { value: "1.5", cores: 1_500 },
    { value: 4, cores: 4_000 },
    { value: "1e3", cores: 1_000_000 },
    { value: "100u", cores: 1 },
  ];
  for (const c of cases) it(`reads cpu ${JSON.stringify(c.value)} as ${c.cores} millicores, rounding requests up`, () => assert.equal(milliCores({ value: c.value, field: "cpu", rounding: "up" }), c.cores));

  it("rounds what a cluster has down", () => assert.equal(milliCores({ value: "100u", field: "cpu", rounding: "down" }), 0));

  const memory = [
    { value: "256Gi", bytes: 256 * 2 ** 30 },
    { value: "128Mi", bytes: 128 * 2 ** 20 },
    { value: "1G", bytes: 1e9 },
    { value: "1.5Ki", bytes: 1536 },
    { value: "64", bytes: 64 },
  ];
  for (const c of memory) it(`reads memory ${c.value} as ${c.bytes} bytes`, () => assert.equal(bytes({ value: c.value, field: "memory", rounding: "up" }), c.bytes));

  it("reads pods as a count", () => assert.equal(podCount({ value: "1.1k", field: "pods", rounding: "down" }), 1100));

  for (const bad of ["half-a-core", "1.2.3", "5 Gi", "Gi", "", "1ki", null, true, {}]) {
    it(`refuses ${JSON.stringify(bad)}, naming the field`, () => {
      assert.throws(() => parseQuantity(bad, "spec.x.cpu"), (e: unknown) => e instanceof InvalidQuantityError && e.message.startsWith("spec.x.cpu: "));
    });
  }
});
