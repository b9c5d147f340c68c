/** The control plane's controllers: workloads and member clusters, the member reports they read, and the federation-wide metrics. */
export { ReportBook, sameReport, type ReportEvent } from "./reports.ts";
export { FleetMetrics, certificationRows, memberRows, placementRows } from "./fleet-metrics.ts";
export { GuardRefusals, isGuardRefusal, refusalKey } from "./guard-refusals.ts";
export { IntentAckTracker, showsApplied } from "./intent-acks.ts";
export * from "./workload/index.ts";
export * from "./membercluster/index.ts";
export { AttestationAppender, checkAttestation, MemberKeys, type DeclaredKey, type LedgerAppend } from "./attestations.ts";
