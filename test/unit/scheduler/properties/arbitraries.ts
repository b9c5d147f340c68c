// Small domains on purpose: collisions (same country, same certification, a date right at
// "now") are where the bugs are.
import fc from "fast-check";
import type { Certification, ClusterView, LabelSelector, PlacementRequest, ResidencyConstraints, Taint, Toleration } from "../../../../operator/src/scheduler/index.ts";

export const NOW = Date.parse("2026-11-28T12:00:00Z");
const GiB = 2 ** 30;

export const COUNTRIES = ["FR", "DE", "NL", "IT"] as const;
export const JURISDICTIONS = ["EU", "EEA", "NONE"] as const;
export const CERTS = ["SecNumCloud", "HDS", "C5"] as const;
export const LAWS = ["US-CLOUD-Act", "US-FISA-702"] as const;
const NAMES = ["a", "b", "c", "d", "e", "f", "g", "h", "ovh-par-1", "ionos-fra-1", "aws-fra-1", "b2"] as const;
/** Around NOW: yesterday, today (still valid), tomorrow, far, long ago, unreadable. */
const VALID_UNTIL = ["2026-11-27", "2026-11-28", "2026-11-29", "2027-06-30", "2020-01-01", "soon", "2026-11-28T12:00:00Z", "2026-11-28T11:59:59Z"] as const;
const LABEL_KEYS = ["tier", "residency.sovereignty.eu/country", "residency.sovereignty.eu/jurisdiction", "certification.sovereignty.eu/hds", "certification.sovereignty.eu/secnumcloud", "residency.sovereignty.eu/extraterritorial-exposure"] as const;
const LABEL_VALUES = ["gold", "silver", "FR", "DE", "EU", "1", "2", "none", "exposed"] as const;

const certification: fc.Arbitrary<Certification> = fc.record({
  name: fc.constantFrom(...CERTS),
  version: fc.constantFrom("1", "2"),
  validUntil: fc.constantFrom(...VALID_UNTIL),
});

const taint: fc.Arbitrary<Taint> = fc.record(
  { key: fc.constantFrom("maint", "gpu"), value: fc.constantFrom("true", "false"), effect: fc.constantFrom("NoSchedule", "NoExecute", "PreferNoSchedule") },
  { requiredKeys: ["key", "effect"] },
);

export const toleration: fc.Arbitrary<Toleration> = fc.record(
  { key: fc.constantFrom("maint", "gpu", ""), operator: fc.constantFrom("Equal", "Exists"), value: fc.constantFrom("true", "false"), effect: fc.constantFrom("NoSchedule", "NoExecute", "") },
  { requiredKeys: [] },
);

export const clusterView = (name: fc.Arbitrary<string> = fc.constantFrom(...NAMES)): fc.Arbitrary<ClusterView> =>
  fc.record({
    name,
    ready: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    country: fc.constantFrom(...COUNTRIES),
    jurisdiction: fc.constantFrom(...JURISDICTIONS),
    region: fc.constantFrom("r1", "r2"),
    extraterritorialExposure: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.subarray([...LAWS], { minLength: 1 }) }),
    certifications: fc.array(certification, { maxLength: 3 }),
    taints: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(taint, { maxLength: 2 }) }),
    // Hand-set labels, including spoofs of the reserved keys, which must be ignored.
    labels: fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: 2 }),
    free: fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.record({ cpuMilli: fc.integer({ min: 2_000, max: 16_000 }), memoryBytes: fc.integer({ min: 4, max: 32 }).map((g) => g * GiB), pods: fc.integer({ min: 5, max: 50 }) }) },
      // Tight or over-committed (negative cpu): where capacity edge cases live.
      { weight: 1, arbitrary: fc.record({ cpuMilli: fc.integer({ min: -500, max: 3_000 }), memoryBytes: fc.integer({ min: 0, max: 4 }).map((g) => g * GiB), pods: fc.integer({ min: 0, max: 4 }) }) },
    ),
  }).map((c) => (c.free === undefined ? (({ free: _f, ...rest }) => rest)(c) : c));

export const clusters: fc.Arbitrary<ClusterView[]> = fc.uniqueArray(clusterView(), { selector: (c) => c.name, maxLength: 9 });

const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: 1 }),
    matchExpressions: fc.array(
      fc.record({
        key: fc.constantFrom(...LABEL_KEYS),
        operator: fc.oneof({ weight: 8, arbitrary: fc.constantFrom("In", "NotIn", "Exists", "DoesNotExist") }, { weight: 1, arbitrary: fc.constant("Gt") }),
        values: fc.subarray([...LABEL_VALUES], { maxLength: 3 }),
      }),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

/** Present only now and then: with every field always set, almost nothing would be eligible. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const dropUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export const constraints: fc.Arbitrary<ResidencyConstraints> = fc
  .record({
    allowedCountries: fc.option(fc.subarray([...COUNTRIES]), { nil: undefined }),
    allowedJurisdictions: rarely(fc.subarray([...JURISDICTIONS])),
    requiredCertifications: rarely(fc.subarray([...CERTS], { maxLength: 2 })),
    forbidExtraterritorialExposure: fc.option(fc.boolean(), { nil: undefined }),
    clusterSelector: rarely(selector),
  })
  .map(dropUndefined);

export const placementRequest: fc.Arbitrary<PlacementRequest> = fc
  .record({
    replicas: fc.integer({ min: 0, max: 12 }),
    mode: fc.constantFrom("Divided", "Duplicated"),
    maxClusters: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    minCountries: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    constraints: fc.array(constraints, { maxLength: 2 }),
    tolerations: fc.array(toleration, { maxLength: 2 }),
    perReplica: fc.record({ cpuMilli: fc.constantFrom(0, 100, 500, 1_000), memoryBytes: fc.constantFrom(0, GiB, 3 * GiB) }),
  })
  .map(({ maxClusters, minCountries, ...r }) => ({
    workload: "ns/app",
    ...r,
    ...(maxClusters !== undefined ? { maxClusters } : {}),
    ...(minCountries !== undefined ? { minCountries } : {}),
  }));

/** "now" near the certification dates, including exactly at a timestamp validUntil. */
export const now: fc.Arbitrary<number> = fc.constantFrom(NOW, Date.parse("2026-11-28T00:00:00Z"), Date.parse("2026-11-28T23:59:59.999Z"), Date.parse("2026-11-29T00:00:00Z"));
