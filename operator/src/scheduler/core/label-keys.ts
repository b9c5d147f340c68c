// The label keys alone, apart from labels.ts (which reads snapshots), so that the
// snapshot can know the reserved keys without importing labels.ts back.

export const LabelKey = {
  country: "residency.sovereignty.eu/country",
  jurisdiction: "residency.sovereignty.eu/jurisdiction",
  extraterritorialExposure: "residency.sovereignty.eu/extraterritorial-exposure",
  /** Followed by the lowercased certification name. */
  certificationPrefix: "certification.sovereignty.eu/",
} as const;

const RESIDENCY_PREFIX = "residency.sovereignty.eu/";

/**
 * Labels under these prefixes are computed from the declared residency facts and
 * nothing else: a stale or hand-set label must never let a selector believe a cluster
 * holds a certification it does not (or no longer) hold.
 */
export function isReservedLabelKey(key: string): boolean {
  return key.startsWith(RESIDENCY_PREFIX) || key.startsWith(LabelKey.certificationPrefix);
}

export const ExposureLabel = { none: "none", exposed: "exposed" } as const;
