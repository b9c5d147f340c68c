import assert from "node:assert/strict";
import { divideProportionally } from "../../../../operator/src/scheduler/core/divide.ts";

describe("divideProportionally", () => {
  const cases = [
    { name: "splits in proportion", total: 10, weights: [3, 1, 1], caps: [Infinity, Infinity, Infinity], want: [6, 2, 2] },
    { name: "gives leftovers to the largest remainders", total: 10, weights: [1, 1, 1], caps: [10, 10, 10], want: [4, 3, 3] },
    { name: "gives tied leftovers to the earlier index (name order)", total: 1, weights: [5, 5], caps: [5, 5], want: [1, 0] },
    { name: "fills a capped cluster and shares the rest again", total: 10, weights: [1, 1, 1], caps: [1, 100, 100], want: [1, 5, 4] },
    { name: "shares equally when every weight is zero", total: 4, weights: [0, 0], caps: [10, 10], want: [2, 2] },
    { name: "places nothing when there is nothing to place", total: 0, weights: [1, 2], caps: [1, 2], want: [0, 0] },
    { name: "stays exact with large weights", total: 9_999, weights: [2 ** 40, 2 ** 40 - 1, 3], caps: [Infinity, Infinity, Infinity], want: [5_000, 4_999, 0] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(divideProportionally(c), c.want));

  it("returns null when the caps cannot hold the total", () => {
    assert.equal(divideProportionally({ total: 5, weights: [1, 1], caps: [2, 2] }), null);
  });
});
