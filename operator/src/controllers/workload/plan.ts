// What status and records are built from: the scheduler's decision for one workload,
// failover included (scheduler/planning).
export type { WorkloadDecision as Plan } from "../../scheduler/index.ts";
