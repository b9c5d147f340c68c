// From the API objects (operator/src/api) to the scheduler core's plain types. This is
// the only place the scheduler sees the CRD shapes; the core and plugins cannot (lint).
import type { MemberCluster, PodSpec, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { MEMBER_CLUSTER_CONDITIONS } from "../api/index.ts";
import type { ClusterView, CurrentPlacement, PlacementRequest, ResidencyConstraints, Resources } from "./core/index.ts";
import { bytes, InvalidQuantityError, milliCores, podCount } from "./quantity.ts";

/**
 * A workload names a ResidencyPolicy that the caller did not supply. Scheduling on the
 * inline constraints alone would be looser than asked, so there is no decision at all.
 * Retryable: the policy may not have reached the cache yet.
 */
export class PolicyNotFoundError extends Error {
  override readonly name = "PolicyNotFoundError";
  readonly retryable = true;
  readonly workload: string;
  readonly policy: string;
  constructor(workload: string, policy: string) {
    super(`spec.residencyPolicy: ResidencyPolicy "${policy}" referenced by SovereignWorkload ${workload} does not exist`);
    this.workload = workload;
    this.policy = policy;
  }
}

export function workloadKey(workload: SovereignWorkload): string {
  return `${workload.metadata.namespace ?? "default"}/${workload.metadata.name}`;
}

export type PodRequests = PlacementRequest["perReplica"];

/** A container's request for `name`, and where it was read, for error messages. */
function requestOf(resources: unknown, name: "cpu" | "memory", field: string): { value: unknown; field: string } | undefined {
  if (typeof resources !== "object" || resources === null) return undefined;
  const { requests, limits } = resources as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  if (requests?.[name] !== undefined) return { value: requests[name], field: `${field}.resources.requests.${name}` };
  // Kubernetes defaults a missing request to the limit.
  if (limits?.[name] !== undefined) return { value: limits[name], field: `${field}.resources.limits.${name}` };
  return undefined;
}

function containerRequests(container: unknown, field: string): PodRequests {
  const resources = (container as { resources?: unknown } | null)?.resources;
  const cpu = requestOf(resources, "cpu", field);
  const memory = requestOf(resources, "memory", field);
  return {
    cpuMilli: cpu ? milliCores({ ...cpu, rounding: "up" }) : 0,
    memoryBytes: memory ? bytes({ ...memory, rounding: "up" }) : 0,
  };
}

/**
 * What one replica asks for, as kube-scheduler computes it: the larger of the sum over
 * containers and the largest init container (they run one at a time, before the
 * others). Pod overhead and restartable init containers are not counted: the member's
 * scheduler has the last word; this only keeps us from choosing clusters that are full.
 */
export function podRequests(spec: PodSpec, field = "spec.template.spec"): PodRequests {
  const sum: PodRequests = { cpuMilli: 0, memoryBytes: 0 };
  spec.containers.forEach((c, i) => {
    const r = containerRequests(c, `${field}.containers[${i}]`);
    sum.cpuMilli += r.cpuMilli;
    sum.memoryBytes += r.memoryBytes;
  });
  const inits = Array.isArray(spec.initContainers) ? (spec.initContainers as unknown[]) : [];
  inits.forEach((c, i) => {
    const r = containerRequests(c, `${field}.initContainers[${i}]`);
    sum.cpuMilli = Math.max(sum.cpuMilli, r.cpuMilli);
    sum.memoryBytes = Math.max(sum.memoryBytes, r.memoryBytes);
  });
  return sum;
}

/**
 * The PlacementRequest for a workload. `policy` must be the ResidencyPolicy it names
 * (if it names one); both the policy and the inline constraints go in, and the core
 * intersects them. `extraConstraints` only narrow further (e.g. one country, when
 * failover may not cross borders); `replicas` overrides `spec.replicas`; `current` is
 * where the replicas are now, which stable placement keeps while it still fits.
 */
export function placementRequestOf({ workload, policy, extraConstraints = [], replicas, current }: {
  workload: SovereignWorkload;
  policy?: ResidencyPolicy | undefined;
  extraConstraints?: readonly ResidencyConstraints[];
  replicas?: number | undefined;
  current?: readonly CurrentPlacement[] | undefined;
}): PlacementRequest {
  const key = workloadKey(workload);
  const spec = workload.spec;
  const constraints: ResidencyConstraints[] = [];
  if (spec.residencyPolicy !== undefined) {
    if (!policy || policy.metadata.name !== spec.residencyPolicy) throw new PolicyNotFoundError(key, spec.residencyPolicy);
    constraints.push(policy.spec);
  }
  if (spec.residency) constraints.push(spec.residency);
  constraints.push(...extraConstraints);
  return {
    workload: key,
    replicas: replicas ?? spec.replicas,
    mode: spec.placement.mode,
    ...(spec.placement.maxClusters !== undefined ? { maxClusters: spec.placement.maxClusters } : {}),
    ...(spec.placement.spread ? { minCountries: spec.placement.spread.minCountries } : {}),
    constraints,
    tolerations: spec.template.spec.tolerations ?? [],
    perReplica: readablePodRequests(spec.template.spec),
    ...(current && current.length > 0 ? { current: current.map((p) => ({ cluster: p.cluster, replicas: p.replicas })) } : {}),
  };
}

/**
 * What one replica asks for, or nothing when a quantity is unreadable: the API server
 * does not check the quantities of a pod template, and such a template is refused as a
 * whole by the planning (planWorkload: PodTemplateForbidden, naming the field), so the
 * request built for it must not throw first.
 */
function readablePodRequests(spec: PodSpec): PodRequests {
  try {
    return podRequests(spec);
  } catch (err) {
    if (err instanceof InvalidQuantityError) return { cpuMilli: 0, memoryBytes: 0 };
    throw err;
  }
}

/** The first unreadable resource quantity of a pod template, named by its field; undefined when all read. */
export function unreadableQuantity(spec: PodSpec): InvalidQuantityError | undefined {
  try {
    podRequests(spec);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidQuantityError) return err;
    throw err;
  }
}

/** Resources a cluster has, from `status.allocatable`; a resource it does not report is unbounded. */
export function allocatableOf(cluster: MemberCluster): Resources | undefined {
  const a = cluster.status?.allocatable;
  if (!a) return undefined;
  const field = (name: string) => `status.allocatable.${name}`;
  return {
    cpuMilli: a.cpu === undefined ? Infinity : milliCores({ value: a.cpu, field: field("cpu"), rounding: "down" }),
    memoryBytes: a.memory === undefined ? Infinity : bytes({ value: a.memory, field: field("memory"), rounding: "down" }),
    pods: a.pods === undefined ? Infinity : podCount({ value: a.pods, field: field("pods"), rounding: "down" }),
  };
}

/**
 * What the other workloads' placements take on each cluster: their `status.placements`
 * replicas (or, for a workload in `assumed`, the placements just decided for it and not
 * yet in its status) times their per-replica requests. The workload being decided is
 * left out (`exclude`), so that rescheduling it does not count its own pods against it.
 */
export function usedByPlacements({ workloads, exclude, assumed }: {
  workloads: readonly SovereignWorkload[];
  exclude?: string;
  assumed?: ReadonlyMap<string, readonly CurrentPlacement[]>;
}): Map<string, Resources> {
  const used = new Map<string, Resources>();
  for (const w of workloads) {
    const key = workloadKey(w);
    if (key === exclude) continue;
    const placements = assumed?.get(key) ?? w.status?.placements ?? [];
    if (placements.length === 0) continue;
    const per = podRequests(w.spec.template.spec);
    for (const p of placements) {
      const u = used.get(p.cluster) ?? { cpuMilli: 0, memoryBytes: 0, pods: 0 };
      u.cpuMilli += per.cpuMilli * p.replicas;
      u.memoryBytes += per.memoryBytes * p.replicas;
      u.pods += p.replicas;
      used.set(p.cluster, u);
    }
  }
  return used;
}

/**
 * A MemberCluster as the core sees it; `used` is subtracted from `status.allocatable`.
 * A NotReady cluster stays NotReady here: the replicas it holds within their failover
 * toleration are kept by the planning (planning/), not by pretending it is up.
 */
export function clusterViewOf({ cluster, used }: { cluster: MemberCluster; used?: Resources | undefined }): ClusterView {
  const residency = cluster.spec.residency;
  const ready = cluster.status?.conditions?.some((c) => c.type === MEMBER_CLUSTER_CONDITIONS.Ready && c.status === "True") ?? false;
  const allocatable = allocatableOf(cluster);
  return {
    name: cluster.metadata.name,
    ready,
    country: residency.country,
    jurisdiction: residency.jurisdiction,
    ...(residency.region !== undefined ? { region: residency.region } : {}),
    ...(residency.provider !== undefined ? { provider: residency.provider } : {}),
    extraterritorialExposure: exposureOf(residency),
    certifications: (residency.certifications ?? []).map((c) => ({ name: c.name, version: c.version ?? "", validUntil: c.validUntil })),
    taints: cluster.spec.taints ?? [],
    labels: cluster.metadata.labels ?? {},
    ...(allocatable
      ? {
          free: used
            ? { cpuMilli: allocatable.cpuMilli - used.cpuMilli, memoryBytes: allocatable.memoryBytes - used.memoryBytes, pods: allocatable.pods - used.pods }
            : allocatable,
        }
      : {}),
  };
}

/**
 * Stands for an exposure nobody declared, in the ClusterView's list (it is never shown:
 * the label and reasons say only "exposed").
 */
export const UNDECLARED_EXPOSURE = "Undeclared";

/**
 * The schema requires `extraterritorialExposure` (`[]` declares none), but a MemberCluster
 * stored before it did is not revalidated until it is next written, and a caller may
 * build objects by hand. Absent is then read as exposed: residency is a guarantee, and
 * silence about a provider's exposure to foreign law is not evidence that it has none.
 */
function exposureOf(residency: MemberCluster["spec"]["residency"]): readonly string[] {
  const declared = (residency as { extraterritorialExposure?: readonly string[] | null }).extraterritorialExposure;
  return Array.isArray(declared) ? declared : [UNDECLARED_EXPOSURE];
}
