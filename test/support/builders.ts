// The one place tests build API objects, so each test states only the facts it is about and
// a change to the API shape is made once. Unit and integration tests both import this.
//
// Overrides merge one level into the defaults (metadata, spec.residency / spec); a key given
// as `undefined` is removed, which is how a test builds an object that lacks a field.
// Every builder returns a fresh object: tests may mutate what they get.
import { API_VERSION, type MemberCluster, type MemberClusterStatus, type ObjectMeta, type Residency, type ResidencyPolicy, type ResidencyPolicySpec, type SovereignWorkload, type SovereignWorkloadSpec, type SovereignWorkloadStatus, type Taint } from "../../operator/src/api/index.ts";

/** The instant every test that needs "now" uses; certifications in the builders are valid then. */
export const NOW_ISO = "2026-11-28T00:00:00Z";
export const NOW = Date.parse(NOW_ISO);
export const GiB = 2 ** 30;

type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

function merge<T extends object>(base: T, overrides: Overrides<T> | undefined): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as T;
}

export interface MemberClusterOptions {
  name?: string;
  labels?: Record<string, string>;
  /** Merged into the default residency (FR, EU, eu-west-par, OVHcloud, no exposure, HDS and SecNumCloud). */
  residency?: Overrides<Residency>;
  taints?: Taint[];
  /** Replaces the default status (Ready, 64 CPU / 256Gi / 110 pods); null: no status at all. */
  status?: MemberClusterStatus | null;
  metadata?: Overrides<ObjectMeta>;
}

export function memberCluster(opts: MemberClusterOptions = {}): MemberCluster {
  const residency = merge<Residency>(
    {
      country: "FR",
      jurisdiction: "EU",
      region: "eu-west-par",
      provider: "OVHcloud",
      extraterritorialExposure: [],
      certifications: [
        { name: "HDS", validUntil: "2027-01-01" },
        { name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" },
      ],
    },
    opts.residency,
  );
  const status: MemberClusterStatus = {
    conditions: [{ type: "Ready", status: "True", lastTransitionTime: NOW_ISO, reason: "HeartbeatsFresh", message: "" }],
    allocatable: { cpu: "64", memory: "256Gi", pods: "110" },
  };
  return {
    apiVersion: API_VERSION,
    kind: "MemberCluster",
    metadata: merge<ObjectMeta>({ name: opts.name ?? "ovh-par-1", labels: opts.labels ?? { tier: "gold" } }, opts.metadata),
    spec: { residency, taints: opts.taints ?? [{ key: "maintenance", effect: "NoSchedule" }] },
    ...(opts.status === null ? {} : { status: opts.status ?? status }),
  };
}

export interface ResidencyPolicyOptions {
  name?: string;
  labels?: Record<string, string>;
  /** Merged into the default spec (FR only, HDS required). */
  spec?: Overrides<ResidencyPolicySpec>;
}

export function residencyPolicy(opts: ResidencyPolicyOptions = {}): ResidencyPolicy {
  return {
    apiVersion: API_VERSION,
    kind: "ResidencyPolicy",
    metadata: { name: opts.name ?? "health", ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: merge<ResidencyPolicySpec>({ allowedCountries: ["FR"], requiredCertifications: ["HDS"] }, opts.spec),
  };
}

export interface SovereignWorkloadOptions {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** Merged into the default spec (3 replicas, Divided, failover after 30s, one container asking 500m / 1Gi). */
  spec?: Overrides<SovereignWorkloadSpec>;
  status?: SovereignWorkloadStatus;
}

/**
 * A container securityContext the restricted Pod Security Standard admits. The agent
 * labels every namespace it creates `pod-security.kubernetes.io/enforce: restricted`
 * (api/pod-security.ts), so the member's admission refuses pods without it.
 */
export function restrictedSecurityContext(): Record<string, unknown> {
  return { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
}

export function sovereignWorkload(opts: SovereignWorkloadOptions = {}): SovereignWorkload {
  const name = opts.name ?? "app";
  return {
    apiVersion: API_VERSION,
    kind: "SovereignWorkload",
    metadata: { name, namespace: opts.namespace ?? "ns", ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: merge<SovereignWorkloadSpec>(
      {
        replicas: 3,
        placement: { mode: "Divided" },
        failover: { enabled: true, tolerationSeconds: 30 },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example.eu/app:1", resources: { requests: { cpu: "500m", memory: "1Gi" } }, securityContext: restrictedSecurityContext() }] } },
      },
      opts.spec,
    ),
    ...(opts.status ? { status: opts.status } : {}),
  };
}
