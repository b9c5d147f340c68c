/**
 * The residency guard's parameter: this member's facts as the host declared them, with
 * only the certifications valid today. Pure; the agent writes the result into the
 * GUARD_PARAM ConfigMap and recomputes it when the next certification expires.
 */
import { guardExposureFact } from "../api/index.ts";
import type { ResidencyFacts } from "../gen/sovereign/v1/residency.ts";
import { validityEnd } from "../scheduler/index.ts";

export interface GuardParamData {
  cluster: string;
  country: string;
  jurisdiction: string;
  /** Comma-separated names of the certifications valid at `now`. */
  validCertifications: string;
  /** Comma-separated laws, or "none" (EXPOSURE_NONE): the guard reads blank as exposed. */
  extraterritorialExposure: string;
  [key: string]: string;
}

/** The ConfigMap data for `facts` at `now` (a certification counts through the end of its validUntil day, UTC, as the scheduler reads it). */
export function guardParamData(params: { cluster: string; facts: ResidencyFacts; now: Date }): GuardParamData {
  const now = params.now.getTime();
  const valid = params.facts.certifications.filter((c) => now < validityEnd(c.validUntil)).map((c) => c.name);
  return {
    cluster: params.cluster,
    country: params.facts.country,
    jurisdiction: params.facts.jurisdiction,
    validCertifications: [...new Set(valid)].sort().join(","),
    extraterritorialExposure: guardExposureFact(params.facts.extraterritorialExposure),
  };
}

/** The first instant after `now` at which guardParamData changes on its own (a certification stops counting), if any. */
export function nextGuardChange(params: { facts: ResidencyFacts; now: Date }): Date | undefined {
  const now = params.now.getTime();
  const ends = params.facts.certifications.map((c) => validityEnd(c.validUntil)).filter((end) => end > now);
  return ends.length ? new Date(Math.min(...ends)) : undefined;
}
