import { execFileSync } from "node:child_process";
import path from "node:path";
import { type LocalFederationEnv, readLocalFederationEnv } from "./env.ts";
import { down, startComponent, status, stopComponent, up, type UpOptions } from "./federation.ts";
import { defaultBasePort, type Layout } from "./layout.ts";
import { DEFAULT_MEMBERS, defaultAgents } from "./shape.ts";
import { readState } from "./state.ts";

/**
 * The local federation as a library for tests and tools, like controller-runtime's
 * envtest: start it (or reuse the one that runs), read its env, take one component
 * down and back, stop it.
 */

export const repoRoot = path.resolve(import.meta.dirname, "../../..");

export interface ShapeOptions {
  root?: string;
  stateDir?: string;
  members?: string[];
  agents?: string[];
  controlPlane?: boolean;
  /** Whose identity the control plane and agents run under (default: the recorded one, else charts). */
  rbac?: "charts" | "admin";
  nodesPerMember?: number;
  /** nats-servers: 1, or 3 for a JetStream cluster (default: the recorded shape, else FEDERATION_NATS_CLUSTER as the caller read it, else 1). */
  natsCluster?: number;
  basePort?: number;
  /** FEDERATION_BASE_PORT as the caller read it; below an explicit basePort, above the recorded one. */
  envBasePort?: string;
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/**
 * Fills in what the caller left out: a recorded federation keeps its shape and ports;
 * a new one gets the default shape. Members given without agents get the default agents.
 */
export function resolveUpOptions(opts: ShapeOptions): UpOptions {
  const root = opts.root ?? repoRoot;
  const stateDir = path.resolve(opts.stateDir ?? path.join(root, ".federation"));
  const prior = readState(stateDir);
  const envBase = opts.envBasePort !== undefined && opts.envBasePort !== "" ? Number(opts.envBasePort) : undefined;
  if (envBase !== undefined && (!Number.isInteger(envBase) || envBase < 1024 || envBase > 65400)) {
    throw new Error(`FEDERATION_BASE_PORT: "${opts.envBasePort}" is not a whole number between 1024 and 65400`);
  }
  const members = opts.members ?? prior?.members ?? [...DEFAULT_MEMBERS];
  const agents = opts.agents ?? (opts.members ? defaultAgents(members) : prior ? (prior.agents ?? []) : defaultAgents(members));
  return {
    root,
    stateDir,
    basePort: opts.basePort ?? envBase ?? prior?.basePort ?? defaultBasePort(root),
    members,
    agents,
    controlPlane: opts.controlPlane ?? prior?.controlPlane ?? true,
    rbac: opts.rbac ?? prior?.rbac ?? "charts",
    nodesPerMember: opts.nodesPerMember ?? prior?.nodesPerMember ?? 3,
    natsCluster: opts.natsCluster ?? prior?.natsCluster ?? 1,
    timeoutMs: opts.timeoutMs ?? 240_000,
    progress: opts.progress ?? (() => undefined),
  };
}

export interface LocalFederation {
  env: LocalFederationEnv;
  layout?: Layout;
  /** False when a healthy federation was already running and was reused. */
  startedHere: boolean;
  /** Takes the federation down if this call started it (unless `keep`). */
  stop(): Promise<void>;
  stopComponent(component: string): Promise<{ component: string; pid: number }>;
  startComponent(component: string): Promise<{ component: string; pid: number }>;
}

/**
 * FEDERATION_NATS_CLUSTER: the NATS shape a test run asks for (`npm run test:chaos` sets 3);
 * unset or empty: whatever runs (or the default). Anything else is refused by name.
 */
export function natsClusterFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (n !== 1 && n !== 3) throw new Error(`FEDERATION_NATS_CLUSTER: "${value}" is neither 1 nor 3`);
  return n;
}

export interface StartOptions extends ShapeOptions {
  /** Leave it running on stop() (KEEP_FEDERATION=1). */
  keep?: boolean;
  /** Build the server binaries first if needed (hack/build-tools); default true. */
  buildTools?: boolean;
}

/** Whether every planned component answers; components that cannot run yet do not count. */
export async function federationHealthy(opts: { root?: string; stateDir: string }): Promise<boolean> {
  const rows = await status({ root: opts.root ?? repoRoot, stateDir: path.resolve(opts.stateDir) }).catch(() => undefined);
  return rows !== undefined && rows.every((r) => r.healthy || r.absent !== undefined);
}

/**
 * Brings the federation up (or completes it), or reuses a healthy one when no shape is
 * asked for. Resolves with its env once everything is ready.
 */
export async function startLocalFederation(opts: StartOptions = {}): Promise<LocalFederation> {
  const resolved = resolveUpOptions(opts);
  const { root, stateDir } = resolved;
  const shapeAsked = opts.members !== undefined || opts.agents !== undefined || opts.controlPlane !== undefined || opts.rbac !== undefined || opts.nodesPerMember !== undefined || opts.natsCluster !== undefined;
  let startedHere = false;
  let layout: Layout | undefined;
  if (shapeAsked || !(await federationHealthy({ root, stateDir }))) {
    if (opts.buildTools !== false) execFileSync(path.join(root, "hack", "build-tools"), { stdio: ["ignore", "inherit", "inherit"] });
    startedHere = readState(stateDir) === undefined || !(await federationHealthy({ root, stateDir }));
    layout = await up(resolved);
  }
  const componentOpts = (component: string) => ({ root, stateDir, component, timeoutMs: resolved.timeoutMs, progress: resolved.progress });
  return {
    env: readLocalFederationEnv(stateDir),
    ...(layout ? { layout } : {}),
    startedHere,
    stop: async () => {
      if (startedHere && !opts.keep) await down({ stateDir, progress: resolved.progress });
    },
    stopComponent: (component) => stopComponent(componentOpts(component)),
    startComponent: (component) => startComponent(componentOpts(component)),
  };
}
