// Compile-time guarantees of the schema builders: each @ts-expect-error below must stay an
// error, or `npm run typecheck` fails. This is what keeps schema.ts and types.ts in sync.
import assert from "node:assert/strict";
import { int32, object, str } from "../../../operator/src/api/openapi.ts";

interface Sample {
  name: string;
  count?: number;
}

describe("schema builders are typed against the API types", () => {
  it("object<T> must list exactly T's fields, with schemas of matching kinds, requiring only required fields", () => {
    const name = str("n", { maxLength: 8 });
    const count = int32("c");
    const ok = object<Sample>({ description: "s", properties: { name, count }, required: ["name"] });
    // @ts-expect-error count is a field of Sample and must be described
    object<Sample>({ description: "s", properties: { name } });
    // @ts-expect-error extra is not a field of Sample
    object<Sample>({ description: "s", properties: { name, count, extra: name } });
    // @ts-expect-error a string field cannot have an integer schema
    object<Sample>({ description: "s", properties: { name: count, count } });
    // @ts-expect-error count is optional in Sample, so the schema cannot require it
    object<Sample>({ description: "s", properties: { name, count }, required: ["count"] });
    assert.deepEqual(ok.required, ["name"]);
  });
});
