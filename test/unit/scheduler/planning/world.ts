// A federation observed at two instants, for the planning's properties: at BEFORE the
// workload is placed on a federation that is mostly up; by AFTER clusters have gone
// NotReady (some still within the workload's toleration, some past it), a certification
// has expired, an exposure has been declared, the policy has been tightened. The facts
// are kept beside the API objects so that the tests judge residency from them, not
// through the scheduler's own filters.
import fc from "fast-check";
import type { ClusterPlacement, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { memberCluster, NOW, residencyPolicy, sovereignWorkload } from "../../../support/builders.ts";

export const BEFORE = NOW;
/** 36 h later: an HDS entry valid until the day of BEFORE has expired. */
export const AFTER = NOW + 36 * 3_600_000;
const EXPIRING = "2026-11-28";

export type Country = "FR" | "DE" | "IT";
export type Later = "ready" | "inside" | "past";

export interface ClusterFacts {
  country: Country;
  hds: "valid" | "expiring" | "none";
  exposed: boolean;
  /** An exposure declared between BEFORE and AFTER. */
  exposedLater: boolean;
  readyBefore: boolean;
  /** Ready at AFTER, or NotReady since an instant inside / past the workload's toleration. */
  later: Later;
  /** Where inside the toleration (0..1), or how far past it (s). */
  frac: number;
  extra: number;
  pods: number;
}

export interface WorkloadFacts {
  replicas: number;
  mode: "Divided" | "Duplicated";
  policyCountries: Country[];
  /** The policy loses its first country by AFTER (when it has more than one). */
  tighten: boolean;
  inlineCountries: Country[] | undefined;
  hds: "policy" | "inline" | "no";
  forbidExposure: boolean;
  crossBorder: "policy-false" | "inline-false" | "true";
  minCountries: number | undefined;
  maxClusters: number | undefined;
  failoverEnabled: boolean;
  tolerationSeconds: number;
  cpuMilli: number;
}

export interface OtherFacts {
  cpuMilli: number;
  placements: { i: number; replicas: number }[];
}

const country = fc.constantFrom<Country>("FR", "FR", "DE", "IT");

export const clusterFacts: fc.Arbitrary<ClusterFacts> = fc.record({
  country,
  hds: fc.constantFrom("valid" as const, "valid" as const, "expiring" as const, "none" as const),
  exposed: fc.constantFrom(false, false, true),
  exposedLater: fc.constantFrom(false, false, false, true),
  readyBefore: fc.constantFrom(true, true, false),
  later: fc.constantFrom<Later>("ready", "inside", "past"),
  frac: fc.double({ min: 0, max: 0.999, noNaN: true }),
  extra: fc.integer({ min: 0, max: 600 }),
  pods: fc.integer({ min: 2, max: 10 }),
});

export const workloadFacts: fc.Arbitrary<WorkloadFacts> = fc.record({
  replicas: fc.integer({ min: 0, max: 6 }),
  mode: fc.constantFrom("Divided" as const, "Duplicated" as const),
  policyCountries: fc.subarray<Country>(["FR", "DE", "IT"], { minLength: 1 }),
  tighten: fc.boolean(),
  // Mostly absent: intersected with the policy's, random lists leave one country too often to fail over across.
  inlineCountries: fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.subarray<Country>(["FR", "DE", "IT"], { minLength: 1 }), weight: 1 }),
  hds: fc.constantFrom("policy" as const, "inline" as const, "no" as const),
  forbidExposure: fc.boolean(),
  crossBorder: fc.constantFrom("policy-false" as const, "inline-false" as const, "true" as const),
  minCountries: fc.constantFrom(undefined, undefined, undefined, 1, 2),
  // Duplicated without maxClusters takes every eligible cluster, leaving none to fail over to.
  maxClusters: fc.constantFrom(undefined, 1, 2, 2, 3),
  failoverEnabled: fc.constantFrom(true, true, true, false),
  tolerationSeconds: fc.constantFrom(0, 30, 180, 300),
  cpuMilli: fc.constantFrom(0, 250, 1_000),
});

export const otherFacts: fc.Arbitrary<OtherFacts> = fc.record({
  cpuMilli: fc.constantFrom(0, 500),
  placements: fc.array(fc.record({ i: fc.nat(), replicas: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }),
});

/** The same world with no residency change between BEFORE and AFTER: only readiness moves. */
export function calm({ clusters, workload }: { clusters: readonly ClusterFacts[]; workload: WorkloadFacts }): { clusters: ClusterFacts[]; workload: WorkloadFacts } {
  return {
    clusters: clusters.map((f) => ({ ...f, hds: f.hds === "expiring" ? "valid" : f.hds, exposedLater: false })),
    workload: { ...workload, tighten: false },
  };
}

export const nameOf = (f: Pick<ClusterFacts, "country">, i: number) => `${f.country.toLowerCase()}-${i}`;

/** When a cluster NotReady at AFTER went NotReady (epoch ms, whole seconds as a condition's time is written). */
export function notReadySince(f: ClusterFacts, w: WorkloadFacts): number {
  return f.later === "inside" ? AFTER - Math.floor(f.frac * w.tolerationSeconds) * 1000 : AFTER - (w.tolerationSeconds + f.extra) * 1000;
}

const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function clusterAt(f: ClusterFacts, i: number, w: WorkloadFacts, when: "before" | "after"): MemberCluster {
  const ready = when === "before" ? f.readyBefore : f.later === "ready";
  const since = when === "before" || ready ? BEFORE - 3_600_000 : notReadySince(f, w);
  const certifications = f.hds === "valid" ? [{ name: "HDS" as const, validUntil: "2027-12-31" }] : f.hds === "expiring" ? [{ name: "HDS" as const, validUntil: EXPIRING }] : [];
  return memberCluster({
    name: nameOf(f, i),
    residency: {
      country: f.country, jurisdiction: "EU", region: `${f.country.toLowerCase()}-1`, provider: undefined,
      extraterritorialExposure: f.exposed || (when === "after" && f.exposedLater) ? ["US-CLOUD-Act"] : [],
      certifications,
    },
    taints: [],
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False", reason: ready ? "HeartbeatsFresh" : "HeartbeatMissed", message: "", lastTransitionTime: at(since) }],
      allocatable: { cpu: "16", memory: "64Gi", pods: String(f.pods) },
    },
  });
}

export function policyAt(w: WorkloadFacts, when: "before" | "after"): ResidencyPolicy {
  const countries = when === "after" && w.tighten && w.policyCountries.length > 1 ? w.policyCountries.slice(1) : w.policyCountries;
  return residencyPolicy({
    name: "p",
    spec: {
      allowedCountries: countries,
      requiredCertifications: w.hds === "policy" ? ["HDS"] : undefined,
      ...(w.crossBorder === "policy-false" ? { crossBorderFailover: false } : {}),
    },
  });
}

export function workloadOf(w: WorkloadFacts, placements?: readonly ClusterPlacement[]): SovereignWorkload {
  const base = sovereignWorkload({
    name: "w",
    namespace: "ns",
    spec: {
      replicas: w.replicas,
      placement: {
        mode: w.mode,
        ...(w.maxClusters !== undefined ? { maxClusters: w.maxClusters } : {}),
        ...(w.minCountries !== undefined ? { spread: { minCountries: w.minCountries } } : {}),
      },
      failover: { enabled: w.failoverEnabled, tolerationSeconds: w.tolerationSeconds },
      residencyPolicy: "p",
      residency: {
        ...(w.inlineCountries ? { allowedCountries: w.inlineCountries } : {}),
        ...(w.hds === "inline" ? { requiredCertifications: ["HDS"] } : {}),
        forbidExtraterritorialExposure: w.forbidExposure,
        ...(w.crossBorder === "inline-false" ? { crossBorderFailover: false } : {}),
      },
      template: { spec: { containers: [{ name: "app", image: "registry.invalid/app:1", resources: { requests: { cpu: `${w.cpuMilli}m` } } }] } },
    },
    ...(placements ? { status: { placements: [...placements] } } : {}),
  });
  return { ...base, metadata: { ...base.metadata, uid: "uid-w", generation: 1, resourceVersion: "7" } };
}

export function othersOf(others: readonly OtherFacts[], clusters: readonly ClusterFacts[]): SovereignWorkload[] {
  return others.map((o, k) => {
    const onto = new Map<number, number>();
    for (const p of o.placements) onto.set(p.i % clusters.length, (onto.get(p.i % clusters.length) ?? 0) + p.replicas);
    const placements = [...onto].map(([i, replicas]) => ({ cluster: nameOf(clusters[i]!, i), country: clusters[i]!.country, replicas }));
    return sovereignWorkload({
      name: `other-${k}`,
      namespace: "ns",
      spec: {
        replicas: placements.reduce((n, p) => n + p.replicas, 0),
        template: { spec: { containers: [{ name: "app", image: "registry.invalid/other:1", resources: { requests: { cpu: `${o.cpuMilli}m` } } }] } },
      },
      status: { placements },
    });
  });
}

/**
 * The residency oracle, from the facts alone: may this cluster hold the workload at
 * AFTER? (Countries: the tightened policy's and the inline ones; HDS valid at AFTER; no
 * exposure when forbidden.)
 */
export function compliantAfter(f: ClusterFacts, w: WorkloadFacts): boolean {
  const policy = policyAt(w, "after").spec.allowedCountries ?? [];
  if (!policy.includes(f.country)) return false;
  if (w.inlineCountries && !w.inlineCountries.includes(f.country)) return false;
  if (w.hds !== "no" && f.hds !== "valid") return false;
  if (w.forbidExposure && (f.exposed || f.exposedLater)) return false;
  return true;
}

/** NotReady at AFTER, with failover on and its toleration over: its replicas may be re-placed. */
export function lostAfter(f: ClusterFacts, w: WorkloadFacts): boolean {
  return f.later !== "ready" && w.failoverEnabled && AFTER >= notReadySince(f, w) + w.tolerationSeconds * 1000;
}
