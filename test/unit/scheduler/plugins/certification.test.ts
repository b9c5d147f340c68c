import assert from "node:assert/strict";
import type { Certification, ResidencyConstraints } from "../../../../operator/src/scheduler/index.ts";
import { certification } from "../../../../operator/src/scheduler/plugins/certification.ts";
import { cluster, NOW, request, runFilter } from "../builders.ts";

const snc = (validUntil: string): Certification => ({ name: "SecNumCloud", version: "3.2", validUntil });
const hds = (validUntil: string): Certification => ({ name: "HDS", version: "1.0", validUntil });

describe("Certification filter", () => {
  const cases: { name: string; certs: Certification[]; constraints: ResidencyConstraints[]; now?: number; want: string[] | null }[] = [
    { name: "skips when no certification is required", certs: [], constraints: [{ requiredCertifications: [] }], want: null },
    { name: "passes a required certification valid after now", certs: [snc("2027-06-30")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: [] },
    { name: "rejects a required certification the cluster lacks as MissingCertification", certs: [hds("2027-06-30")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: ["MissingCertification"] },
    { name: "rejects a certification that expired before now as CertificationExpired", certs: [snc("2026-11-27")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: ["CertificationExpired"] },
    { name: "counts a date-only validUntil through the end of that day (UTC)", certs: [snc("2026-11-28")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], now: Date.parse("2026-11-28T23:59:59.999Z"), want: [] },
    { name: "stops counting it at midnight after that day", certs: [snc("2026-11-28")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], now: Date.parse("2026-11-29T00:00:00Z"), want: ["CertificationExpired"] },
    { name: "counts a timestamp validUntil up to and including that instant", certs: [snc("2026-11-28T00:00:00Z")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: [] },
    { name: "never counts an unreadable validUntil", certs: [snc("next year")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: ["CertificationExpired"] },
    { name: "never counts a date that does not exist", certs: [snc("2027-02-30")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: ["CertificationExpired"] },
    { name: "passes when a renewed entry is valid next to an expired one", certs: [snc("2025-01-01"), snc("2028-01-01")], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: [] },
    { name: "requires ALL listed certifications", certs: [snc("2027-06-30")], constraints: [{ requiredCertifications: ["SecNumCloud", "HDS"] }], want: ["MissingCertification"] },
    { name: "requires the certifications of policy and inline alike", certs: [snc("2027-06-30")], constraints: [{ requiredCertifications: ["SecNumCloud"] }, { requiredCertifications: ["HDS"] }], want: ["MissingCertification"] },
    { name: "reports both a missing and an expired certification", certs: [snc("2020-01-01")], constraints: [{ requiredCertifications: ["SecNumCloud", "HDS"] }], want: ["MissingCertification", "CertificationExpired"] },
    { name: "matches names exactly (a near-miss spelling is missing)", certs: [{ name: "secnumcloud", version: "3.2", validUntil: "2027-06-30" }], constraints: [{ requiredCertifications: ["SecNumCloud"] }], want: ["MissingCertification"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(runFilter(certification, { cluster: cluster({ certifications: c.certs }), request: request({ constraints: c.constraints }), now: c.now ?? NOW }), c.want);
    });
  }
});
