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

/** One nats-server of the federation: `nats-server` alone, or `nats-<i>` of a JetStream cluster. */
export interface NatsServerLayout {
  /** The component name: `hack/federation stop nats-2`. */
  name: string;
  clientPort: number;
  monitorPort: number;
  /** The cluster's route listener (mutual TLS); absent on the single-server shape. */
  routePort?: number;
  /** Its config file, JetStream store and log live here. */
  dir: string;
  log: string;
}

/** NATS shapes `up --nats-cluster` takes: one server, or a JetStream cluster of three (a quorum survives one loss). */
export const NATS_CLUSTER_SIZES = [1, 3] as const;

export interface Layout {
  root: string;
  stateDir: string;
  logDir: string;
  basePort: number;
  etcdClientPort: number;
  etcdPeerPort: number;
  /** The first (or only) nats-server's client and monitoring ports. */
  natsPort: number;
  natsMonitorPort: number;
  /** Every nats-server, the first one on natsPort. */
  nats: NatsServerLayout[];
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
  /** nats-servers: 1 (default) or a JetStream cluster of 3. */
  natsCluster?: number;
}

/**
 * Ports of each nats-server: the first keeps the ports of the single-server shape (so a
 * client of either shape finds it in the same place), its route port is base+7; the
 * second and third take the top six ports of the block, which no member reaches
 * (the eighth member ends at base+93).
 */
function natsServers(opts: { base: number; stateDir: string; logDir: string; size: number }): NatsServerLayout[] {
  const b = opts.base;
  if (opts.size === 1) {
    return [{ name: NATS_SINGLE_COMPONENT, clientPort: b + 2, monitorPort: b + 3, dir: path.join(opts.stateDir, "nats"), log: path.join(opts.logDir, "nats-server.log") }];
  }
  const ports = [[b + 2, b + 3, b + 7], [b + 94, b + 95, b + 96], [b + 97, b + 98, b + 99]];
  return ports.slice(0, opts.size).map(([clientPort, monitorPort, routePort], i) => ({
    name: natsComponentName(i + 1), clientPort: clientPort!, monitorPort: monitorPort!, routePort: routePort!,
    dir: path.join(opts.stateDir, natsComponentName(i + 1)), log: path.join(opts.logDir, `${natsComponentName(i + 1)}.log`),
  }));
}

/** The single server's component name, as before clusters existed (`hack/federation stop nats-server`, or `stop nats`). */
export const NATS_SINGLE_COMPONENT = "nats-server";

/** The i-th server (from 1) of a JetStream cluster: `hack/federation stop nats-2`. */
export function natsComponentName(i: number): string {
  return `nats-${i}`;
}

export function validateNatsCluster(n: number): number {
  if (!(NATS_CLUSTER_SIZES as readonly number[]).includes(n)) throw new Error(`--nats-cluster: ${n} servers is not a shape the local federation runs (${NATS_CLUSTER_SIZES.join(" or ")})`);
  return n;
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
  const nats = natsServers({ base: b, stateDir, logDir: path.join(stateDir, "logs"), size: validateNatsCluster(opts.natsCluster ?? 1) });
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
    natsPort: nats[0]!.clientPort,
    natsMonitorPort: nats[0]!.monitorPort,
    nats,
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
    layout.etcdClientPort, layout.etcdPeerPort, layout.grpcPort, layout.controlPlaneMetricsPort, layout.queryPort,
    ...layout.nats.flatMap((n) => [n.clientPort, n.monitorPort, ...(n.routePort !== undefined ? [n.routePort] : [])]),
    ...layout.clusters.flatMap((c) => [c.apiserverPort, c.controllerManagerPort, c.schedulerPort, ...(c.agentMetricsPort !== undefined ? [c.agentMetricsPort] : [])]),
  ];
}

/** The component name of a member's agent: `hack/federation stop agent-ionos-fra-1`. */
export function agentComponentName(member: string): string {
  return `agent-${member}`;
}

export const CONTROL_PLANE_COMPONENT = "control-plane";
