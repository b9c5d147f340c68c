// The residency a workload's pods carry to its members, where the admission guard checks
// them against the member's own facts (charts/member-agent). The guard is the last line:
// it must never be looser than what the scheduler enforced.
import type { ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { PolicyNotFoundError, workloadKey } from "./adapt.ts";
import type { ResidencyConstraints } from "./core/index.ts";

/**
 * Structurally the protobuf ResidencyRequirements (gen/sovereign/v1/residency.ts), which
 * the scheduler does not import: an empty list means "no constraint".
 */
export interface EffectiveResidency {
  allowedCountries: string[];
  allowedJurisdictions: string[];
  requiredCertifications: string[];
  forbidExtraterritorialExposure: boolean;
}

/**
 * Stands alone in a list whose constraints have nothing in common: no country code or
 * jurisdiction is "-" (the CRD patterns refuse it), so it allows nothing, where an
 * empty list would mean "anything".
 */
export const NOTHING_ALLOWED = "-";

function intersect(lists: readonly (readonly string[] | undefined)[]): string[] {
  let out: string[] | undefined;
  for (const list of lists) {
    if (!list || list.length === 0) continue;
    out = out ? out.filter((x) => list.includes(x)) : [...new Set(list)];
  }
  if (!out) return [];
  return out.length > 0 ? out.sort() : [NOTHING_ALLOWED];
}

/** The effective requirements of several constraints: what all of them together allow. */
export function combineResidency(constraints: readonly ResidencyConstraints[]): EffectiveResidency {
  return {
    allowedCountries: intersect(constraints.map((c) => c.allowedCountries)),
    allowedJurisdictions: intersect(constraints.map((c) => c.allowedJurisdictions)),
    requiredCertifications: [...new Set(constraints.flatMap((c) => c.requiredCertifications ?? []))].sort(),
    forbidExtraterritorialExposure: constraints.some((c) => c.forbidExtraterritorialExposure === true),
  };
}

/**
 * A workload's residency from its policy and its inline constraints (both apply).
 * Cluster selectors are not carried: a member's guard sees its own facts, not the host's
 * labels. Throws PolicyNotFoundError when the policy it names is not `policy`.
 */
export function residencyRequirementsOf({ workload, policy }: { workload: SovereignWorkload; policy?: ResidencyPolicy | undefined }): EffectiveResidency {
  const constraints: ResidencyConstraints[] = [];
  const name = workload.spec.residencyPolicy;
  if (name !== undefined) {
    if (!policy || policy.metadata.name !== name) throw new PolicyNotFoundError(workloadKey(workload), name);
    constraints.push(policy.spec);
  }
  if (workload.spec.residency) constraints.push(workload.spec.residency);
  return combineResidency(constraints);
}
