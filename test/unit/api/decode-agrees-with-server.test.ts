// The offline decoder against the same table of bad manifests the integration suite sends
// to kube-apiserver: whatever the API server rejects, `simulate` must reject too, naming
// the same field, so offline input is never more permissive than the cluster.
import assert from "node:assert/strict";
import { ApiValidationError, decodeObject } from "../../../operator/src/api/decode.ts";
import { BAD_CREATES, UNKNOWN_FIELDS, validMemberCluster, validResidencyPolicy, validSovereignWorkload } from "../../support/bad-manifests.ts";

function issuesOf(doc: unknown): ApiValidationError {
  try {
    decodeObject(doc, { source: "table" });
  } catch (err) {
    assert.ok(err instanceof ApiValidationError, String(err));
    return err;
  }
  assert.fail("the decoder accepted it");
}

describe("the decoder rejects what the API server rejects", () => {
  it("accepts the valid base objects", () => {
    for (const doc of [validMemberCluster("ok"), validResidencyPolicy("ok"), validSovereignWorkload("ok")]) decodeObject(doc, { source: "table" });
  });

  for (const c of BAD_CREATES.filter((x) => !x.strictDecoding)) {
    it(`${c.title}: names ${c.field}`, () => {
      const err = issuesOf(c.build("bad"));
      assert.ok(err.issues.some((i) => i.field === c.field), `fields named: ${err.issues.map((i) => i.field).join(", ")}`);
    });
  }

  for (const c of UNKNOWN_FIELDS) {
    it(`${c.title}: an error offline, as under strict field validation`, () => {
      assert.ok(issuesOf(c.build("bad")).issues.some((i) => i.field === c.field && /unknown field/.test(i.reason)));
    });
  }
});
