import { createHash } from "node:crypto";
import path from "node:path";
import { InvalidNameError } from "../../../operator/src/federation/errors.ts";
import { validateClusterName } from "../../../operator/src/federation/nats/protocol.ts";
import { ADMIN_CLIENT, CONTROL_PLANE_IDENTITY } from "./security.ts";

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

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  nats: number;
  natsMonitor: number;
  grpc: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

export interface ClusterLayout {
  name: string;
  /** "host" or a member name. */
  role: "host" | "member";
  member?: MemberSpec;
  apiserverPort: number;
  controllerManagerPort: number;
  schedulerPort: number;
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
  nodesPerMember: number;
  clusters: ClusterLayout[];
}

export const PORTS_PER_FEDERATION = 100;
const MEMBER_PORT_STRIDE = 10;
const MAX_MEMBERS = 8;

export const MEMBER_NAME = /^[a-z][a-z0-9]{1,14}$/;

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
  try {
    validateClusterName(m, "--members");
  } catch (err) {
    if (err instanceof InvalidNameError) throw why(err.message.includes("reserved") ? "reserved by the federation protocol" : err.message);
    throw err;
  }
  if (!MEMBER_NAME.test(m)) throw why("lowercase letters and digits, 2-15 characters, starting with a letter");
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

export function makeLayout(opts: { root: string; stateDir: string; basePort: number; members: string[]; nodesPerMember: number }): Layout {
  if (opts.members.length === 0 || opts.members.length > MAX_MEMBERS) {
    throw new Error(`--members: between 1 and ${MAX_MEMBERS} members, got ${opts.members.length}`);
  }
  for (const m of opts.members) validateMemberName(m);
  if (new Set(opts.members).size !== opts.members.length) throw new Error(`--members: duplicate names in ${opts.members.join(",")}`);
  const stateDir = path.resolve(opts.stateDir);
  const b = opts.basePort;
  const cluster = (name: string, role: "host" | "member", offset: number): ClusterLayout => ({
    name,
    role,
    ...(role === "member" ? { member: memberSpec(name) } : {}),
    apiserverPort: b + offset,
    controllerManagerPort: b + offset + 1,
    schedulerPort: b + offset + 2,
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
    nodesPerMember: opts.nodesPerMember,
    clusters: [
      cluster("host", "host", 10),
      ...opts.members.map((m, i) => cluster(m, "member", 20 + i * MEMBER_PORT_STRIDE)),
    ],
  };
}

/** Every loopback port a federation of this layout listens on. */
export function layoutPorts(layout: Layout): number[] {
  return [
    layout.etcdClientPort, layout.etcdPeerPort, layout.natsPort, layout.natsMonitorPort, layout.grpcPort,
    ...layout.clusters.flatMap((c) => [c.apiserverPort, c.controllerManagerPort, c.schedulerPort]),
  ];
}
