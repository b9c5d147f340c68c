/**
 * A placement re-checked against what its record says it was decided on: the member's
 * residency facts and the workload's requirements, at the record's time. Reuses the
 * scheduler's own residency filters (country, jurisdiction, certifications, exposure:
 * docs/API.md's rules 3 to 6) on a one-cluster snapshot, so the verifier and the control
 * plane can never disagree on what "compliant" meant. Readiness, taints, selectors and
 * capacity are left out: they are not residency, and the record does not carry them.
 */
import { createSnapshot, filterClusters, PlacementMode, profileOf, reasonsOf } from "../scheduler/index.ts";
import type { FactsBody, RequirementsBody } from "./record.ts";

const RESIDENCY = profileOf({ filters: ["Country", "Jurisdiction", "Certification", "ExtraterritorialExposure"], scores: [] });

/** The reasons (API.md's names) a cluster with `facts` did not satisfy `requirements` at `at`; empty when it did. */
export function residencyViolations({ facts, requirements, at }: { facts: FactsBody; requirements: RequirementsBody; at: Date }): string[] {
  const snapshot = createSnapshot([{
    name: "recorded",
    ready: true,
    country: facts.country,
    jurisdiction: facts.jurisdiction,
    region: facts.region,
    provider: facts.provider,
    extraterritorialExposure: facts.extraterritorialExposure,
    certifications: facts.certifications,
    taints: [],
    labels: {},
  }]);
  const { verdicts } = filterClusters({
    snapshot,
    request: {
      workload: "recorded",
      replicas: 1,
      mode: PlacementMode.Divided,
      constraints: [requirements],
      tolerations: [],
      perReplica: { cpuMilli: 0, memoryBytes: 0 },
    },
    now: at.getTime(),
    profile: RESIDENCY,
  });
  return [...reasonsOf(verdicts[0]!)];
}
