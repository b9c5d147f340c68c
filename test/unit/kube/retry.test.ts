import assert from "node:assert/strict";
import { KubeError, NotFoundError, toKubeError } from "../../../operator/src/kube/errors.ts";
import { retryAfterMs, withRetryAfter } from "../../../operator/src/kube/retry.ts";

// What kube-apiserver v1.34 answers for a CRD whose watch cache is still starting.
const initializing = {
  code: 429,
  body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"storage is (re)initializing","reason":"TooManyRequests","details":{"retryAfterSeconds":2},"code":429}\n',
};

describe("kube client retries on 429 with Retry-After", () => {
  it("reads the wait the API server asks for, and none for other errors", () => {
    assert.equal(retryAfterMs(toKubeError(initializing, "list residencypolicies")), 2000);
    assert.equal(retryAfterMs(new KubeError("x", { status: 429, retryable: true })), 1000);
    assert.equal(retryAfterMs(new NotFoundError("MemberCluster fr")), undefined);
    assert.equal(retryAfterMs(new KubeError("x", { status: 503, retryable: true })), undefined);
    assert.equal(retryAfterMs(new Error("429")), undefined);
  });

  it("succeeds once the storage has initialised, waiting as asked (capped)", async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await withRetryAfter({
      call: async () => {
        if (++calls < 3) throw toKubeError(initializing, "list residencypolicies");
        return "listed";
      },
      policy: { attempts: 5, maxDelayMs: 1500, delay: async (ms) => void waits.push(ms) },
    });
    assert.equal(value, "listed");
    assert.deepEqual(waits, [1500, 1500]);
  });

  it("gives up after the attempts, passing the last error on, still retryable", async () => {
    let calls = 0;
    const err = await withRetryAfter({
      call: async () => {
        calls++;
        throw toKubeError(initializing, "list residencypolicies");
      },
      policy: { attempts: 3, maxDelayMs: 10, delay: async () => undefined },
    }).catch((e: unknown) => e);
    assert.equal(calls, 3);
    assert.ok(err instanceof KubeError && err.retryable && err.status === 429);
  });

  it("does not retry an error without Retry-After", async () => {
    let calls = 0;
    await assert.rejects(withRetryAfter({
      call: async () => {
        calls++;
        throw new NotFoundError("MemberCluster fr");
      },
      policy: { attempts: 5, maxDelayMs: 10, delay: async () => undefined },
    }), NotFoundError);
    assert.equal(calls, 1);
  });
});
