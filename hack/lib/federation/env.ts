import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Layout, memberEnvName } from "./layout.ts";

/**
 * .federation/env: what `up` writes for shells (`. .federation/env`) and the one typed
 * reader every program uses (tests, benchmarks, the demo), so the names are defined here
 * only, for both directions.
 */

export const ENV_FILE = "env";

/** The running federation, as a client needs it. Paths are absolute. */
export interface LocalFederationEnv {
  stateDir: string;
  hostKubeconfig: string;
  /** Member names, in layout order. */
  members: string[];
  /** Members that run an agent. */
  agents: string[];
  /** Keyed by member name (`fr`, `ovh-par-1`). */
  memberKubeconfigs: Record<string, string>;
  /** The first (or only) nats-server. */
  natsUrl: string;
  natsMonitorUrl: string;
  /** Every nats-server (three on a JetStream cluster), the first one first. */
  natsUrls: string[];
  natsMonitorUrls: string[];
  /** The replica count of the federation's streams on this shape (1, or 3 on a cluster). */
  natsStreamReplicas: number;
  natsCa: string;
  /** NATS nkey seed files by identity: each member, and `control-plane`. */
  natsCreds: Record<string, string>;
  grpcCa: string;
  /** host:port of the control plane's gRPC server (reserved even while it does not run). */
  controlPlaneGrpcAddress: string;
  /** http://127.0.0.1:P/metrics; /healthz and /readyz live beside it. */
  controlPlaneMetricsUrl: string;
  /** Keyed by agent member name. */
  agentMetricsUrls: Record<string, string>;
  kubectl: string;
  /** Every line of the file, as written (NATS_CREDS_FR, GRPC_CERT_FR, ...). */
  vars: Record<string, string>;
}

export const envKeys = {
  kubeconfig: (cluster: string) => `${memberEnvName(cluster)}_KUBECONFIG`,
  natsCreds: (identity: string) => `NATS_CREDS_${memberEnvName(identity)}`,
  agentMetricsUrl: (member: string) => `AGENT_METRICS_URL_${memberEnvName(member)}`,
  members: "FEDERATION_MEMBERS",
  agents: "FEDERATION_AGENTS",
  controlPlaneMetricsUrl: "CONTROL_PLANE_METRICS_URL",
  controlPlaneGrpcAddress: "CONTROL_PLANE_GRPC_ADDRESS",
} as const;

/** The lines the layout itself determines (the NATS and PKI ones come from nats.ts). */
export function layoutEnv(opts: { layout: Layout; kubectl: string }): Record<string, string> {
  const { layout } = opts;
  const vars: Record<string, string> = {};
  for (const c of layout.clusters) vars[envKeys.kubeconfig(c.name)] = c.kubeconfig;
  vars[envKeys.members] = layout.clusters.filter((c) => c.role === "member").map((c) => c.name).join(",");
  vars[envKeys.agents] = layout.agents.join(",");
  vars[envKeys.controlPlaneMetricsUrl] = `http://127.0.0.1:${layout.controlPlaneMetricsPort}/metrics`;
  vars[envKeys.controlPlaneGrpcAddress] = `127.0.0.1:${layout.grpcPort}`;
  for (const c of layout.clusters) {
    if (layout.agents.includes(c.name)) vars[envKeys.agentMetricsUrl(c.name)] = `http://127.0.0.1:${c.agentMetricsPort}/metrics`;
  }
  vars.GRPC_PORT = String(layout.grpcPort);
  // Not FEDERATION_STATE_DIR or FEDERATION_BASE_PORT: a shell that sourced this file would
  // point every later `hack/federation` call (a test's second federation too) at these.
  vars.KUBECTL = opts.kubectl;
  // kubectl and `kubectl sovereign` in a shell that sourced this file reach the host by
  // default, as they would with a cluster admin's own kubeconfig.
  vars.KUBECONFIG = layout.clusters.find((c) => c.role === "host")!.kubeconfig;
  return vars;
}

export function renderEnv(vars: Record<string, string>): string {
  return [
    "# Written by hack/federation up. Source it: `. .federation/env`.",
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    "",
  ].join("\n");
}

export function writeEnvFile(opts: { stateDir: string; vars: Record<string, string> }): void {
  writeFileSync(path.join(opts.stateDir, ENV_FILE), renderEnv(opts.vars));
}

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", `'"'"'`)}'`;
}

/** Reads back what renderEnv wrote (plain and single-quoted values). */
export function parseEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const raw = m[2]!;
    vars[m[1]!] = raw.startsWith("'") ? raw.slice(1, -1).replaceAll(`'"'"'`, "'") : raw.replace(/^"|"$/g, "");
  }
  return vars;
}

/** A line the reader needs is missing: the federation is older than this reader, or not up. */
export class FederationEnvError extends Error {
  override readonly name = "FederationEnvError";
  readonly retryable = false;
}

export function federationEnvFromVars(opts: { stateDir: string; vars: Record<string, string> }): LocalFederationEnv {
  const { vars } = opts;
  const file = path.join(opts.stateDir, ENV_FILE);
  const need = (k: string) => {
    const v = vars[k];
    if (!v) throw new FederationEnvError(`${file}: no ${k} (bring the federation up with hack/federation up)`);
    return v;
  };
  const list = (k: string) => (vars[k] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  // Files written before FEDERATION_MEMBERS listed every member name only had *_KUBECONFIG lines.
  const members = vars[envKeys.members] !== undefined
    ? list(envKeys.members)
    : Object.keys(vars)
      .map((k) => /^([A-Z0-9_]+)_KUBECONFIG$/.exec(k)?.[1])
      .filter((n): n is string => n !== undefined && n !== "HOST")
      .map((n) => n.toLowerCase().replaceAll("_", "-"));
  const agents = list(envKeys.agents);
  const memberKubeconfigs: Record<string, string> = {};
  for (const m of members) memberKubeconfigs[m] = need(envKeys.kubeconfig(m));
  const agentMetricsUrls: Record<string, string> = {};
  for (const a of agents) agentMetricsUrls[a] = need(envKeys.agentMetricsUrl(a));
  const natsCreds: Record<string, string> = {};
  for (const id of [...members, "control-plane"]) {
    const v = vars[envKeys.natsCreds(id)];
    if (v) natsCreds[id] = v;
  }
  const grpcPort = vars.GRPC_PORT;
  return {
    stateDir: opts.stateDir,
    hostKubeconfig: need(envKeys.kubeconfig("host")),
    members,
    agents,
    memberKubeconfigs,
    natsUrl: need("NATS_URL"),
    natsMonitorUrl: need("NATS_MONITOR_URL"),
    // Files written before clusters existed name the one server only.
    natsUrls: vars.NATS_URLS ? list("NATS_URLS") : [need("NATS_URL")],
    natsMonitorUrls: vars.NATS_MONITOR_URLS ? list("NATS_MONITOR_URLS") : [need("NATS_MONITOR_URL")],
    natsStreamReplicas: Number(vars.NATS_STREAM_REPLICAS || "1"),
    natsCa: vars.NATS_CA ?? "",
    natsCreds,
    grpcCa: vars.GRPC_CA ?? "",
    controlPlaneGrpcAddress: vars[envKeys.controlPlaneGrpcAddress] ?? (grpcPort ? `127.0.0.1:${grpcPort}` : ""),
    controlPlaneMetricsUrl: vars[envKeys.controlPlaneMetricsUrl] ?? "",
    agentMetricsUrls,
    kubectl: vars.KUBECTL ?? "",
    vars,
  };
}

/** The typed reader of <stateDir>/env. */
export function readLocalFederationEnv(stateDir: string): LocalFederationEnv {
  const dir = path.resolve(stateDir);
  return federationEnvFromVars({ stateDir: dir, vars: parseEnv(readFileSync(path.join(dir, ENV_FILE), "utf8")) });
}
