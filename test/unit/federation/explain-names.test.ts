import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { explainHandler } from "../../../operator/src/federation/grpc/decisions.ts";
import type { ExplainSource } from "../../../operator/src/federation/grpc/decisions.ts";
import { RpcError } from "../../../operator/src/federation/grpc/errors.ts";
import { TestClock } from "../../../operator/src/runtime/index.ts";

// Found by the gRPC fuzzer (test/fuzz/grpc.test.ts): Explain of namespace "../x" reached the
// host API server, whose error the caller got as INTERNAL.
describe("Explain: namespace and name are Kubernetes names", () => {
  const asked: string[] = [];
  const host: ExplainSource = {
    getSovereignWorkload: async (ns: string, name: string) => void asked.push(`${ns}/${name}`),
    listMemberClusters: async () => [],
    listResidencyPolicies: async () => [],
    listSovereignWorkloads: async () => [],
  } as unknown as ExplainSource;
  const explain = explainHandler({ host, clock: new TestClock("2026-12-01T00:00:00Z") });

  for (const [what, req, field] of [
    ["a path in the namespace", { namespace: "../x", name: "web" }, "namespace"],
    ["an upper-case namespace", { namespace: "Health", name: "web" }, "namespace"],
    ["a unicode name", { namespace: "health", name: "\u0909'" }, "name"],
    ["a name with a slash", { namespace: "health", name: "a/b" }, "name"],
    ["a time that is not one", { namespace: "health", name: "web", now: new Date(Number.NaN) }, "now"],
  ] as const) {
    it(`refuses ${what} as INVALID_ARGUMENT naming ${field}, without asking the host`, async () => {
      asked.length = 0;
      await assert.rejects(explain({ now: undefined, ...req }), (err: unknown) => {
        assert.ok(err instanceof RpcError);
        assert.equal(err.code, status.INVALID_ARGUMENT);
        assert.ok(err.message.startsWith(`${field}: `), err.message);
        return true;
      });
      assert.deepEqual(asked, []);
    });
  }

  it("asks the host for valid names (control): NOT_FOUND when it has no such workload", async () => {
    asked.length = 0;
    await assert.rejects(explain({ namespace: "health", name: "web.v2", now: undefined }), (err: unknown) => err instanceof RpcError && err.code === status.NOT_FOUND);
    assert.deepEqual(asked, ["health/web.v2"]);
  });
});
