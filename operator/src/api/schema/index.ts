import type { Kind } from "../types.ts";
import type { KindDefinition } from "./kind.ts";
import { memberCluster } from "./member-cluster.ts";
import { residencyPolicy } from "./residency-policy.ts";
import { sovereignWorkload } from "./sovereign-workload.ts";

export type { KindDefinition, PrinterColumn } from "./kind.ts";
export { LIMITS } from "./sovereign-workload.ts";

export const KIND_DEFINITIONS: Readonly<Record<Kind, KindDefinition>> = {
  MemberCluster: memberCluster,
  ResidencyPolicy: residencyPolicy,
  SovereignWorkload: sovereignWorkload,
};
