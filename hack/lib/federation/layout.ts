import { createHash } from "node:crypto";
import path from "node:path";
import { InvalidNameError } from "../../../operator/src/federation/errors.ts";
import { validateClusterName } from "../../../operator/src/federation/nats/protocol.ts";
import { ADMIN_CLIENT, CONTROL_PLANE_IDENTITY } from "./security.ts";
import { EXAMPLE_REGIONS } from "./shape.ts";

/**
 * Where every component of the local federation listens and keeps its files. Pure:
 * derived from the options alone, so `up`, `status` and `down` agree without talking.
 */

export interface MemberSpec {
  name: string;
  region: string;
  zones: string[];
}

/** Provider regions of the members we ship examples for; any other member gets eu-<name>. */
const KNOWN_REGIONS: Record<string, string> = {
  ...EXAMPLE_REGIONS,
  fr: "eu-west-par",
  de: "eu-central-fra",
  it: "eu-south-mil",
  es: "eu-south-mad",
  nl: "eu-west-ams",
  be: "eu-west-bru",
  pl: "eu-central-waw",
  at: "eu-central-vie",
};

export function memberSpec(name: string): MemberSpec {
  const region = KNOWN_REGIONS[name] ?? `eu-${name}`;
  return { name, region, zones: ["a", "b", "c"].map((z) => `${region}-${z}`) };
}

export interface ClusterLayout {
  name: string;
  /** "host" or a member name. */
  role: "host" | "member";
  member?: MemberSpec;
  apiserverPort: number;
  controllerManagerPort: number;
  schedulerPort: number;
  /** A member's agent serves /metrics, /healthz and /readyz here (reserved even without an agent). */
  agentMetricsPort?: number;
  etcdPrefix: string;
  dir: string;
  kubeconfig: string;
}

export interface Layout {
  root: string;
  stateDir: string;
  logDir: string;
  basePort: number;
  etcdClientPort: number;
  etcdPeerPort: number;
  natsPort: number;
  natsMonitorPort: number;
  /** Reserved for the control plane's gRPC server in demos and tests. */
  grpcPort: number;
  /** The control plane's /metrics, /healthz and /readyz. */
  controlPlaneMetricsPort: number;
  /** The control plane's aggregated query API (HTTPS), which the host's kube-apiserver proxies to. */
  queryPort: number;
  nodesPerMember: number;
  clusters: ClusterLayout[];
  /** Members that run an agent (a subset of the members). */
  agents: string[];
  /** Whether `up` runs the control plane. */
  controlPlane: boolean;
}

export const PORTS_PER_FEDERATION = 100;
const MEMBER_PORT_STRIDE = 10;
const MAX_MEMBERS = 8;

/**
 * A DNS-1123 label, like a MemberCluster's name, of at most 15 characters: it also names
 * a directory, a kubeconfig file, env variables and a NATS account.
 */
export const MEMBER_NAME = /^[a-z](?:[a-z0-9-]{0,13}[a-z0-9])$/;

/** A member's part of an env variable name: OVH_PAR_1_KUBECONFIG, AGENT_METRICS_URL_OVH_PAR_1. */
export function memberEnvName(member: string): string {
  return member.toUpperCase().replaceAll("-", "_");
}

/**
 * A member name must be a valid cluster name for the federation protocol (the same
 * check the operator applies, so `up` cannot create a member the protocol refuses, nor
 * one whose identity collides with the control plane's or the PKI's admin), and a short
 * local name (it becomes a directory, a kubeconfig and a port block). "host" is the
 * local federation's own host cluster.
 */
export function validateMemberName(m: string): string {
  const why = (reason: string) => new Error(`--members: "${m}" is not a valid member name (${reason})`);
  if ([ADMIN_CLIENT, CONTROL_PLANE_IDENTITY, "host"].includes(m)) throw why("reserved: an identity of the federation has that name");
  // Its kubeconfig would be an agent's identity kubeconfig (agent-<member>.kubeconfig).
  if (m.startsWith("agent-")) throw why("reserved: agent-<member> names an agent's files");
  try {
    validateClusterName(m, "--members");
  } catch (err) {
    if (err instanceof InvalidNameError) throw why(err.message.includes("reserved") ? "reserved by the federation protocol" : err.message);
    throw err;
  }
  if (!MEMBER_NAME.test(m)) throw why("lowercase letters, digits and '-', 2-15 characters, starting with a letter and not ending with '-'");
  return m;
}

/**
 * A base port derived from the checkout's path, so two checkouts on one machine pick
 * different blocks without anyone choosing. Kept inside 20000..39999, below the
 * Linux ephemeral range (32768+ is shared, so stay under it where we can).
 */
export function defaultBasePort(root: string): number {
  const h = createHash("sha256").update(root).digest().readUInt32BE(0);
  return 20000 + (h % 120) * PORTS_PER_FEDERATION;
}

export interface LayoutOptions {
  root: string;
  stateDir: string;
  basePort: number;
  members: string[];
  nodesPerMember: number;
  /** Members that run an agent; default none. */
  agents?: string[];
  /** Default true. */
  controlPlane?: boolean;
}

export function makeLayout(opts: LayoutOptions): Layout {
  if (opts.members.length === 0 || opts.members.length > MAX_MEMBERS) {
    throw new Error(`--members: between 1 and ${MAX_MEMBERS} members, got ${opts.members.length}`);
  }
  for (const m of opts.members) validateMemberName(m);
  if (new Set(opts.members).size !== opts.members.length) throw new Error(`--members: duplicate names in ${opts.members.join(",")}`);
  const agents = opts.agents ?? [];
  for (const a of agents) if (!opts.members.includes(a)) throw new Error(`--agents: "${a}" is not one of the members (${opts.members.join(",")})`);
  if (new Set(agents).size !== agents.length) throw new Error(`--agents: duplicate names in ${agents.join(",")}`);
  const stateDir = path.resolve(opts.stateDir);
  const b = opts.basePort;
  const cluster = (name: string, role: "host" | "member", offset: number): ClusterLayout => ({
    name,
    role,
    ...(role === "member" ? { member: memberSpec(name) } : {}),
    apiserverPort: b + offset,
    controllerManagerPort: b + offset + 1,
    schedulerPort: b + offset + 2,
    ...(role === "member" ? { agentMetricsPort: b + offset + 3 } : {}),
    etcdPrefix: `/sovereign-federation/${name}`,
    dir: path.join(stateDir, name),
    kubeconfig: path.join(stateDir, `${name}.kubeconfig`),
  });
  return {
    root: opts.root,
    stateDir,
    logDir: path.join(stateDir, "logs"),
    basePort: b,
    etcdClientPort: b,
    etcdPeerPort: b + 1,
    natsPort: b + 2,
    natsMonitorPort: b + 3,
    grpcPort: b + 4,
    controlPlaneMetricsPort: b + 5,
    queryPort: b + 6,
    nodesPerMember: opts.nodesPerMember,
    clusters: [
      cluster("host", "host", 10),
      ...opts.members.map((m, i) => cluster(m, "member", 20 + i * MEMBER_PORT_STRIDE)),
    ],
    agents: [...agents],
    controlPlane: opts.controlPlane ?? true,
  };
}

/** Every loopback port a federation of this layout listens on, or keeps for its control plane and agents. */
export function layoutPorts(layout: Layout): number[] {
  return [
    layout.etcdClientPort, layout.etcdPeerPort, layout.natsPort, layout.natsMonitorPort, layout.grpcPort, layout.controlPlaneMetricsPort, layout.queryPort,
    ...layout.clusters.flatMap((c) => [c.apiserverPort, c.controllerManagerPort, c.schedulerPort, ...(c.agentMetricsPort !== undefined ? [c.agentMetricsPort] : [])]),
  ];
}

/** The component name of a member's agent: `hack/federation stop agent-ionos-fra-1`. */
export function agentComponentName(member: string): string {
  return `agent-${member}`;
}

export const CONTROL_PLANE_COMPONENT = "control-plane";
