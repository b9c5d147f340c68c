import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RecordedProcess } from "./process.ts";

/** What `up` recorded, so that `status` and `down` act on exactly those processes. */
export interface FederationState {
  basePort: number;
  members: string[];
  nodesPerMember: number;
  /** Members that run an agent; absent in states recorded before agents existed (none). */
  agents?: string[];
  /** Absent in older states: true. */
  controlPlane?: boolean;
  /** Whose identity the control plane and agents run under; absent in older states: admin. */
  rbac?: "charts" | "admin";
  /** nats-servers (1, or 3 for a JetStream cluster); absent in older states: 1. */
  natsCluster?: number;
  processes: RecordedProcess[];
}

export function stateFile(stateDir: string): string {
  return path.join(stateDir, "state.json");
}

export function readState(stateDir: string): FederationState | undefined {
  const f = stateFile(stateDir);
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, "utf8")) as FederationState;
}

export function writeState(stateDir: string, state: FederationState): void {
  writeFileSync(stateFile(stateDir), JSON.stringify(state, null, 2) + "\n");
}
