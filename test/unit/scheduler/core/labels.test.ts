import assert from "node:assert/strict";
import { clusterLabels, residencyLabels } from "../../../../operator/src/scheduler/index.ts";
import { cluster, NOW } from "../builders.ts";

describe("residencyLabels", () => {
  it("mirrors country, jurisdiction, exposure and each valid certification, lowercased", () => {
    const view = cluster({
      country: "FR",
      jurisdiction: "EU",
      certifications: [
        { name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" },
        { name: "EUCS-HighPlus", version: "1", validUntil: "2027-01-01" },
        { name: "HDS", version: "1.0", validUntil: "2020-01-01" },
      ],
    });
    assert.deepEqual(residencyLabels(view, NOW), {
      "residency.sovereignty.eu/country": "FR",
      "residency.sovereignty.eu/jurisdiction": "EU",
      "residency.sovereignty.eu/extraterritorial-exposure": "none",
      "certification.sovereignty.eu/secnumcloud": "3.2",
      "certification.sovereignty.eu/eucs-highplus": "1",
    });
  });

  it("says exposed when any extraterritorial law applies", () => {
    assert.equal(residencyLabels(cluster({ extraterritorialExposure: ["US-CLOUD-Act"] }), NOW)["residency.sovereignty.eu/extraterritorial-exposure"], "exposed");
  });

  it("takes the version of the certification valid longest when two are valid", () => {
    const view = cluster({ certifications: [{ name: "C5", version: "2020", validUntil: "2027-01-01" }, { name: "C5", version: "2023", validUntil: "2029-01-01" }] });
    assert.equal(residencyLabels(view, NOW)["certification.sovereignty.eu/c5"], "2023");
  });

  it("overrides hand-set labels under the residency prefixes in clusterLabels", () => {
    const view = cluster({ country: "DE", labels: { tier: "gold", "residency.sovereignty.eu/country": "FR", "certification.sovereignty.eu/hds": "1" } });
    assert.deepEqual(clusterLabels(view, NOW), {
      tier: "gold",
      "residency.sovereignty.eu/country": "DE",
      "residency.sovereignty.eu/jurisdiction": "EU",
      "residency.sovereignty.eu/extraterritorial-exposure": "none",
    });
  });
});
