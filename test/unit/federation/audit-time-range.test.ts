import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import { checkTimeRange } from "../../../operator/src/federation/grpc/audit.ts";
import { RpcError } from "../../../operator/src/federation/grpc/errors.ts";

// Found by the gRPC fuzzer (test/fuzz/grpc.test.ts): an audit Query whose range.since was in
// the year -29026 reached nats-server as a consumer start time, which refused it, and the
// caller got INTERNAL.
describe("audit Query and Export: the time range", () => {
  const refused = (range: Parameters<typeof checkTimeRange>[0], field: string) =>
    assert.throws(() => checkTimeRange(range), (err: unknown) => {
      assert.ok(err instanceof RpcError);
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.match(err.message, new RegExp(`^${field.replace(".", "\\.")}: .* is outside the years 0001 to 9999$`));
      return true;
    });

  it("takes no range, open ends, and the first and last instants of the years 0001 to 9999 (controls)", () => {
    checkTimeRange(undefined);
    checkTimeRange({});
    checkTimeRange({ since: new Date("0001-01-01T00:00:00.000Z"), until: new Date("9999-12-31T23:59:59.999Z") });
    checkTimeRange({ since: new Date("2026-12-01T00:00:00Z") });
  });

  it("refuses, naming the field, a bound before the year 0001, after 9999, or not a time", () => {
    refused({ since: new Date("-029026-10-03T22:57:39.861Z") }, "range.since");
    refused({ since: new Date("0000-12-31T23:59:59.999Z") }, "range.since");
    refused({ until: new Date("+010000-01-01T00:00:00.000Z") }, "range.until");
    refused({ since: new Date(2026, 0, 1), until: new Date(Number.NaN) }, "range.until");
  });

  it("refuses exactly the instants outside those years (property)", () => {
    fc.assert(fc.property(fc.date(), (d) => {
      const inside = d.getTime() >= Date.parse("0001-01-01T00:00:00Z") && d.getTime() <= Date.parse("9999-12-31T23:59:59.999Z");
      if (inside) checkTimeRange({ since: d, until: d });
      else refused({ since: d }, "range.since");
    }));
  });
});
