/**
 * The residency report (`kubectl sovereign report`): a verified trail read into what each
 * workload did (model.ts, pure) and rendered as Markdown, JSON or one self-contained HTML
 * page with a timeline.
 */
export { duration, instant, percent } from "./format.ts";
export { escapeHtml, FAILOVER_COLOUR, GAP_COLOUR, LANE_COLOURS, renderHtml, ticksOf } from "./html.ts";
export { renderJson } from "./json.ts";
export { escapeMarkdown, renderMarkdown } from "./markdown.ts";
export {
  buildReport, DEFAULT_ATTESTATION_PERIOD_MS, reportOfExport,
  type AttestationCoverage, type AttestationGap, type CertificationUse, type ClusterPresence, type CountryPresence, type MemberCoverage,
  type Move, type NumberedRecord, type ResidencyReport, type Selection, type Stay, type VerificationSummary, type WorkloadRef, type WorkloadReport,
} from "./model.ts";

