import assert from "node:assert/strict";
import { parseAddress } from "../../../operator/src/runtime/manager.ts";

describe("Manager health address", () => {
  const table: { address: string; expected?: { host: string; port: number } }[] = [
    { address: "127.0.0.1:8080", expected: { host: "127.0.0.1", port: 8080 } },
    { address: "127.0.0.1:0", expected: { host: "127.0.0.1", port: 0 } },
    { address: "[::1]:9443", expected: { host: "::1", port: 9443 } },
    { address: "127.0.0.1" },
    { address: "127.0.0.1:70000" },
    { address: ":8080" },
  ];
  for (const { address, expected } of table) {
    it(`"${address}" is ${expected ? "accepted" : "rejected naming healthAddress"}`, () => {
      if (expected) assert.deepEqual(parseAddress(address), expected);
      else assert.throws(() => parseAddress(address), /^RangeError: healthAddress: expected host:port/);
    });
  }
});
