import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { AuditServiceService, QueryRequest } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import { FederationServiceService, JoinRequest } from "../../../operator/src/gen/sovereign/v1/federation.ts";
import { RpcError } from "../../../operator/src/federation/grpc/errors.ts";
import { decodedRequest, UndecodableRequest, withTolerantDecoding } from "../../../operator/src/federation/grpc/undecodable.ts";

// Seen while writing the gRPC fuzzer (test/fuzz/grpc.test.ts): random bytes as a request body made
// grpc-js answer INTERNAL "Error deserializing request", the server's fault by its code.
describe("gRPC requests whose body is not the method's message", () => {
  const join = withTolerantDecoding(FederationServiceService).join;

  it("decodes a valid body as before", () => {
    const body = Buffer.from(JoinRequest.encode({ cluster: "fr", bootstrapToken: "abcdef.0123456789abcdef", agentVersion: "0.1.0" }).finish());
    assert.deepEqual(decodedRequest(join.requestDeserialize(body)), { cluster: "fr", bootstrapToken: "abcdef.0123456789abcdef", agentVersion: "0.1.0" });
    // Control: the untouched deserializer throws on the bytes the tolerant one accepts below.
    assert.throws(() => FederationServiceService.join.requestDeserialize(Buffer.from([0x0a, 0xff])));
  });

  it("turns an undecodable body into INVALID_ARGUMENT naming the request and the method", () => {
    const got = join.requestDeserialize(Buffer.from([0x0a, 0xff]));
    assert.ok(got instanceof UndecodableRequest);
    assert.throws(() => decodedRequest(got), (err: unknown) => {
      assert.ok(err instanceof RpcError);
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.match(err.message, /^request: the body is not a valid protobuf message for \/sovereign\.v1\.FederationService\/Join \(.+\)$/);
      return true;
    });
  });

  it("never throws from a deserializer, whatever the bytes, for every method of both services", () => {
    const methods = [...Object.values(withTolerantDecoding(FederationServiceService)), ...Object.values(withTolerantDecoding(AuditServiceService))];
    fc.assert(fc.property(fc.constantFrom(...methods), fc.uint8Array({ maxLength: 256 }), (m, bytes) => {
      const got = m.requestDeserialize(Buffer.from(bytes));
      assert.ok(got instanceof UndecodableRequest || typeof got === "object");
    }));
  });

  it("leaves the serializers and paths as they were", () => {
    const audit = withTolerantDecoding(AuditServiceService).query;
    assert.equal(audit.path, AuditServiceService.query.path);
    assert.equal(audit.responseSerialize, AuditServiceService.query.responseSerialize);
    assert.equal(audit.responseStream, true);
    assert.deepEqual(decodedRequest(audit.requestDeserialize(Buffer.from(QueryRequest.encode({ namespace: "a", name: "", cluster: "", country: "", range: undefined, limit: 3 }).finish()))), { namespace: "a", name: "", cluster: "", country: "", range: undefined, limit: 3 });
  });
});
