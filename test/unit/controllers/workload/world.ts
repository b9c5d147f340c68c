// A small federation for the desired step's tests: MemberClusters built from a few facts,
// planned by the real scheduler with nothing else using them.
import type { ClusterPlacement, Condition, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { desired } from "../../../../operator/src/controllers/workload/desired.ts";
import type { DesiredState, MemberReport } from "../../../../operator/src/controllers/workload/types.ts";
import type { Resources } from "../../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW_ISO, sovereignWorkload } from "../../../support/builders.ts";

export const T0 = Date.parse(NOW_ISO);

export interface ClusterFacts {
  name: string;
  country?: "FR" | "DE" | "IT";
  ready?: boolean;
  /** When the Ready condition last changed (default T0 - 1h). */
  since?: number;
  exposed?: boolean;
  certs?: { name: "HDS" | "SecNumCloud" | "C5"; validUntil: string }[];
  taints?: { key: string; effect: "NoSchedule" | "NoExecute" }[];
  pods?: number;
}

export function cluster(f: ClusterFacts): MemberCluster {
  const ready = f.ready ?? true;
  const condition: Condition = {
    type: "Ready", status: ready ? "True" : "False", reason: ready ? "HeartbeatFresh" : "HeartbeatMissed", message: "",
    lastTransitionTime: new Date(f.since ?? T0 - 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  return memberCluster({
    name: f.name,
    residency: {
      country: f.country ?? "FR",
      jurisdiction: "EU",
      region: `${(f.country ?? "FR").toLowerCase()}-1`,
      extraterritorialExposure: f.exposed ? ["US-CLOUD-Act"] : [],
      certifications: f.certs ?? [{ name: "HDS", validUntil: "2027-12-31" }],
    },
    taints: f.taints ?? [],
    status: { conditions: [condition], allocatable: { cpu: "64", memory: "256Gi", pods: String(f.pods ?? 110) } },
  });
}

export function workload(opts: {
  replicas?: number;
  mode?: "Divided" | "Duplicated";
  countries?: ("FR" | "DE" | "IT")[];
  certs?: ("HDS" | "SecNumCloud" | "C5")[];
  forbidExposure?: boolean;
  crossBorder?: boolean;
  minCountries?: number;
  maxClusters?: number;
  failover?: { enabled: boolean; tolerationSeconds: number };
  policy?: string;
  placements?: ClusterPlacement[];
  generation?: number;
} = {}): SovereignWorkload {
  const w = sovereignWorkload({
    spec: {
      replicas: opts.replicas ?? 3,
      placement: {
        mode: opts.mode ?? "Divided",
        ...(opts.maxClusters !== undefined ? { maxClusters: opts.maxClusters } : {}),
        ...(opts.minCountries !== undefined ? { spread: { minCountries: opts.minCountries } } : {}),
      },
      failover: opts.failover ?? { enabled: true, tolerationSeconds: 30 },
      residencyPolicy: opts.policy,
      residency: {
        ...(opts.countries ? { allowedCountries: opts.countries } : {}),
        ...(opts.certs ? { requiredCertifications: opts.certs } : {}),
        ...(opts.forbidExposure !== undefined ? { forbidExtraterritorialExposure: opts.forbidExposure } : {}),
        ...(opts.crossBorder !== undefined ? { crossBorderFailover: opts.crossBorder } : {}),
      },
    },
    ...(opts.placements ? { status: { placements: opts.placements } } : {}),
  });
  w.metadata = { ...w.metadata, uid: "uid-1", generation: opts.generation ?? 1, resourceVersion: "100" };
  return w;
}

export function run(params: {
  workload: SovereignWorkload;
  clusters: readonly MemberCluster[];
  policy?: ResidencyPolicy;
  now?: number;
  reports?: ReadonlyMap<string, MemberReport>;
  acknowledged?: ReadonlySet<string>;
  /** What other workloads take per cluster (default nothing). */
  used?: ReadonlyMap<string, Resources>;
}): DesiredState {
  return desired({
    workload: params.workload,
    policy: params.policy,
    clusters: params.clusters,
    reports: params.reports ?? new Map(),
    used: params.used ?? new Map(),
    now: new Date(params.now ?? T0),
    decidedBy: "control-plane/test",
    removalAcknowledged: params.acknowledged ?? new Set(),
  });
}

export const on = (state: DesiredState) => Object.fromEntries(state.placements.map((p) => [p.cluster, p.replicas]));
export const placed = (...ps: [string, "FR" | "DE" | "IT", number][]): ClusterPlacement[] => ps.map(([cluster, country, replicas]) => ({ cluster, country, replicas }));
