import { AuditAction } from "../../operator/src/gen/sovereign/v1/audit.ts";
import type { AuditRecord } from "../../operator/src/gen/sovereign/v1/audit.ts";
import type { Heartbeat } from "../../operator/src/gen/sovereign/v1/heartbeat.ts";
import type { PlacementIntent } from "../../operator/src/gen/sovereign/v1/intent.ts";
import type { WorkloadStatus } from "../../operator/src/gen/sovereign/v1/status.ts";

/** Fully populated messages (every field non-default), shared by unit and contract tests. */
export function sampleIntent(over: Partial<PlacementIntent> = {}): PlacementIntent {
  return {
    intentId: "",
    workload: { namespace: "health", name: "patient-records", uid: "3f1c2a4e-7b7d-4a55-9c1e-0d8f6b9a1c20" },
    generation: 3,
    cluster: "fr",
    replicas: 2,
    podTemplate: {
      metadata: { labels: { app: "patient-records" } },
      spec: { containers: [{ name: "app", image: "registry.example/records:1.4", resources: { requests: { cpu: "250m", memory: "128Mi" } } }] },
    },
    residency: {
      country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [],
      certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" }, { name: "HDS", version: "1.1", validUntil: "2028-01-31" }],
    },
    residencyPolicy: "health-restricted",
    decidedAt: new Date("2026-11-28T10:00:00.123Z"),
    requirements: { allowedCountries: ["FR"], allowedJurisdictions: ["EU"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true },
    podSecurity: { level: "baseline", allowedServiceAccounts: ["records-reader"] },
    ...over,
  };
}

export function sampleHeartbeat(over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    cluster: "fr", agentVersion: "0.1.0", allocatable: { cpu: "64", memory: "256Gi", pods: "1100" },
    sentAt: new Date("2026-11-28T10:00:01.500Z"), sequence: 17, guardDrift: [], ...over,
  };
}

export function sampleStatus(over: Partial<WorkloadStatus> = {}): WorkloadStatus {
  return {
    cluster: "fr",
    workload: { namespace: "health", name: "patient-records", uid: "3f1c2a4e-7b7d-4a55-9c1e-0d8f6b9a1c20" },
    observedGeneration: 3, desiredReplicas: 2, readyReplicas: 1, podPhases: { Running: 1, Pending: 1 },
    reportedAt: new Date("2026-11-28T10:00:02Z"), message: "1 pod Pending: Insufficient cpu", ...over,
  };
}

export function sampleAuditRecord(over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    recordId: "audit-0001", action: AuditAction.AUDIT_ACTION_MOVED,
    workload: { namespace: "health", name: "patient-records", uid: "3f1c2a4e-7b7d-4a55-9c1e-0d8f6b9a1c20" },
    generation: 3, cluster: "fr", country: "FR", replicas: 2, time: new Date("2026-11-28T10:00:03Z"),
    decidedBy: "control-plane/scheduler", reasons: ["Failover"], fromCluster: "fr-2",
    facts: { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [], certifications: [{ name: "HDS", version: "1.1", validUntil: "2028-01-31" }] },
    residencyPolicy: "health-restricted",
    requirements: { allowedCountries: ["FR"], allowedJurisdictions: ["EU"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true },
    ...over,
  };
}
