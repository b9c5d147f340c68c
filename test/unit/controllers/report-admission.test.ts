import assert from "node:assert/strict";
import { reportAdmission } from "../../../operator/src/controllers/report-admission.ts";

describe("reportAdmission: which member statuses the control plane may take", () => {
  const subject = { cluster: "fr", workloadUid: "uid-1" };
  const rows: { what: string; payload: { cluster: string; workloadUid: string | undefined }; placedOn: ReadonlySet<string> | undefined; want: string }[] = [
    { what: "a status of a workload placed on the sender (the control)", payload: { cluster: "fr", workloadUid: "uid-1" }, placedOn: new Set(["fr", "de"]), want: "accept" },
    { what: "a payload uid other than the subject's", payload: { cluster: "fr", workloadUid: "uid-2" }, placedOn: new Set(["fr"]), want: "UidMismatch" },
    { what: "a payload without a workload", payload: { cluster: "fr", workloadUid: undefined }, placedOn: new Set(["fr"]), want: "UidMismatch" },
    { what: "a payload speaking for another cluster", payload: { cluster: "de", workloadUid: "uid-1" }, placedOn: new Set(["fr", "de"]), want: "ClusterMismatch" },
    { what: "a random uid (a flood)", payload: { cluster: "fr", workloadUid: "uid-1" }, placedOn: undefined, want: "UnknownWorkload" },
    { what: "a workload fr does not run", payload: { cluster: "fr", workloadUid: "uid-1" }, placedOn: new Set(["de"]), want: "NotPlacedOnMember" },
  ];
  for (const r of rows) {
    it(`${r.what}: ${r.want}`, () => {
      const got = reportAdmission({ subject, payload: r.payload, placedOn: r.placedOn });
      assert.equal(got.accept ? "accept" : got.reason, r.want);
    });
  }
});
