import assert from "node:assert/strict";
import { DeadlineExceededError, waitFor } from "../../../operator/src/runtime/wait.ts";

describe("waitFor", () => {
  it("returns the first value the condition yields", async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? "ready" : undefined), { what: "third call", timeoutMs: 5000, intervalMs: 1 });
    assert.equal(value, "ready");
    assert.equal(calls, 3);
  });

  it("fails with DeadlineExceededError naming what it waited for, chaining the last error", async () => {
    const err = await waitFor(() => { throw new Error("connection refused"); }, { what: "api server /readyz", timeoutMs: 50, intervalMs: 5 })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof DeadlineExceededError);
    assert.match(err.message, /api server \/readyz/);
    assert.equal((err.cause as Error).message, "connection refused");
  });
});
