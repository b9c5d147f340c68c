// Readiness as the planning reads it (scheduler/planning), for the finalizer's wait.
export { CLUSTER_REMOVED, isReady, notReadySince, readyCondition } from "../../scheduler/index.ts";
