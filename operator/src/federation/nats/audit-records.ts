/**
 * The two forms of a placement audit record: the protobuf AuditRecord the controllers
 * build and AuditService.Query answers with, and the body of a ledger record
 * (operator/src/ledger), which is what is signed and stored.
 */
import { AuditAction } from "../../gen/sovereign/v1/audit.ts";
import type { AuditRecord } from "../../gen/sovereign/v1/audit.ts";
import { PlacementAction, RecordType } from "../../ledger/index.ts";
import type { LedgerRecord, PlacementBody } from "../../ledger/index.ts";

const ACTIONS: Record<number, PlacementBody["action"]> = {
  [AuditAction.AUDIT_ACTION_PLACED]: PlacementAction.Placed,
  [AuditAction.AUDIT_ACTION_MOVED]: PlacementAction.Moved,
  [AuditAction.AUDIT_ACTION_EVICTED]: PlacementAction.Evicted,
  [AuditAction.AUDIT_ACTION_REJECTED]: PlacementAction.Rejected,
};
const ACTION_CODES = Object.fromEntries(Object.entries(ACTIONS).map(([k, v]) => [v, Number(k)])) as Record<string, AuditAction>;

/** The ledger body of a placement audit record (the protobuf the controllers build). */
export function placementBodyOf(r: AuditRecord): PlacementBody {
  return {
    action: ACTIONS[r.action] ?? PlacementAction.Placed,
    workload: { namespace: r.workload?.namespace ?? "", name: r.workload?.name ?? "", uid: r.workload?.uid ?? "" },
    generation: r.generation,
    cluster: r.cluster,
    country: r.country,
    replicas: r.replicas,
    decidedBy: r.decidedBy,
    reasons: [...r.reasons],
    fromCluster: r.fromCluster,
    facts: r.facts
      ? {
        country: r.facts.country, jurisdiction: r.facts.jurisdiction, region: r.facts.region, provider: r.facts.provider,
        extraterritorialExposure: [...r.facts.extraterritorialExposure],
        certifications: r.facts.certifications.map((c) => ({ name: c.name, version: c.version, validUntil: c.validUntil })),
      }
      : null,
    residencyPolicy: r.residencyPolicy,
    requirements: r.requirements
      ? {
        allowedCountries: [...r.requirements.allowedCountries], allowedJurisdictions: [...r.requirements.allowedJurisdictions],
        requiredCertifications: [...r.requirements.requiredCertifications], forbidExtraterritorialExposure: r.requirements.forbidExtraterritorialExposure,
      }
      : null,
  };
}

/** The protobuf view of a placement record, for AuditService.Query and `kubectl sovereign audit WORKLOAD`. */
export function auditRecordOf(record: LedgerRecord): AuditRecord | undefined {
  if (record.type !== RecordType.Placement) return undefined;
  const b = record.body as PlacementBody;
  return {
    recordId: record.id,
    action: ACTION_CODES[b.action] ?? AuditAction.AUDIT_ACTION_UNSPECIFIED,
    workload: { ...b.workload },
    generation: b.generation,
    cluster: b.cluster,
    country: b.country,
    replicas: b.replicas,
    time: new Date(record.time),
    decidedBy: b.decidedBy,
    reasons: [...b.reasons],
    fromCluster: b.fromCluster,
    facts: b.facts ? { ...b.facts, extraterritorialExposure: [...b.facts.extraterritorialExposure], certifications: b.facts.certifications.map((c) => ({ ...c })) } : undefined,
    residencyPolicy: b.residencyPolicy,
    requirements: b.requirements ? { ...b.requirements } : undefined,
  };
}

