import assert from "node:assert/strict";
import { guardParamData, nextGuardChange } from "../../../operator/src/agent/index.ts";
import type { ResidencyFacts } from "../../../operator/src/gen/sovereign/v1/residency.ts";

const facts: ResidencyFacts = {
  country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: ["US-FISA-702", "US-CLOUD-Act"],
  certifications: [
    { name: "SecNumCloud", version: "3.2", validUntil: "2026-11-30" },
    { name: "HDS", version: "1.1", validUntil: "2026-11-28" },
    { name: "C5", version: "2020", validUntil: "2026-01-01" },
  ],
};

describe("agent: the residency guard's parameter", () => {
  it("holds the host's facts with only the certifications valid today, sorted", () => {
    assert.deepEqual(guardParamData({ cluster: "fr", facts, now: new Date("2026-11-28T23:59:59Z") }), {
      cluster: "fr", country: "FR", jurisdiction: "EU", validCertifications: "HDS,SecNumCloud", extraterritorialExposure: "US-CLOUD-Act,US-FISA-702",
    });
  });

  it("counts a certification through the end of its validUntil day (UTC), not after", () => {
    const table: [string, string][] = [
      ["2026-11-28T00:00:00Z", "HDS,SecNumCloud"],
      ["2026-11-28T23:59:59.999Z", "HDS,SecNumCloud"],
      ["2026-11-29T00:00:00Z", "SecNumCloud"],
      ["2026-12-01T00:00:00Z", ""],
    ];
    for (const [now, valid] of table) assert.equal(guardParamData({ cluster: "fr", facts, now: new Date(now) }).validCertifications, valid, now);
  });

  it("says when it next changes on its own: the end of the earliest still-valid certification", () => {
    assert.equal(nextGuardChange({ facts, now: new Date("2026-11-28T12:00:00Z") })?.toISOString(), "2026-11-29T00:00:00.000Z");
    assert.equal(nextGuardChange({ facts, now: new Date("2026-11-29T00:00:00Z") })?.toISOString(), "2026-12-01T00:00:00.000Z");
    assert.equal(nextGuardChange({ facts, now: new Date("2026-12-01T00:00:00Z") }), undefined);
  });

  it("never counts a certification whose validUntil cannot be read (fail closed)", () => {
    const bad = { ...facts, certifications: [{ name: "HDS", version: "1", validUntil: "2026-02-30" }, { name: "C5", version: "1", validUntil: "soon" }] };
    assert.equal(guardParamData({ cluster: "fr", facts: bad, now: new Date("2026-01-01T00:00:00Z") }).validCertifications, "");
  });
});
