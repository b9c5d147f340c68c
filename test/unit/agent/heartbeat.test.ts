import assert from "node:assert/strict";
import fc from "fast-check";
import { allocatableOf, quantityValue } from "../../../operator/src/agent/index.ts";
import type { Node } from "../../../operator/src/kube/index.ts";

const node = (name: string, ready: boolean, allocatable: Record<string, string>): Node => ({ name, ready, unschedulable: false, allocatable });

describe("agent: the heartbeat's allocatable", () => {
  it("sums cpu, memory and pods over Ready nodes only", () => {
    const nodes = [
      node("a", true, { cpu: "4", memory: "16Gi", pods: "110" }),
      node("b", true, { cpu: "1500m", memory: "8Gi", pods: "110" }),
      node("down", false, { cpu: "64", memory: "256Gi", pods: "110" }),
    ];
    assert.deepEqual(allocatableOf(nodes), { cpu: "5500m", memory: "24Gi", pods: "220" });
  });

  it("reads every quantity form the API admits", () => {
    const table: [string, number][] = [["1", 1], ["250m", 0.25], ["1.5", 1.5], ["1Ki", 1024], ["2Mi", 2 * 2 ** 20], ["1e3", 1000], ["1k", 1000], ["0.1", 0.1]];
    for (const [text, value] of table) assert.equal(quantityValue(text), value, text);
    assert.ok(Number.isNaN(quantityValue("1e1.5")));
    assert.ok(Number.isNaN(quantityValue(" 1")));
  });

  it("counts an unreadable quantity as nothing rather than failing the heartbeat", () => {
    assert.deepEqual(allocatableOf([node("a", true, { cpu: "lots", memory: "1Gi", pods: "10" }), node("b", true, { cpu: "2", memory: "", pods: "x" })]), { cpu: "2", memory: "1Gi", pods: "10" });
  });

  it("is the same whatever the order of the nodes (property)", () => {
    const arb = fc.array(fc.record({ ready: fc.boolean(), cpu: fc.integer({ min: 0, max: 64_000 }), mem: fc.integer({ min: 0, max: 2 ** 20 }), pods: fc.integer({ min: 0, max: 500 }) }), { maxLength: 8 });
    fc.assert(fc.property(arb, (specs) => {
      const nodes = specs.map((s, i) => node(`n${i}`, s.ready, { cpu: `${s.cpu}m`, memory: `${s.mem}Ki`, pods: String(s.pods) }));
      const sum = allocatableOf(nodes);
      assert.deepEqual(allocatableOf([...nodes].reverse()), sum);
      const want = specs.filter((s) => s.ready).reduce((acc, s) => acc + s.pods, 0);
      assert.equal(sum.pods, String(want));
    }));
  });
});
