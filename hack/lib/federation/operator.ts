import { existsSync } from "node:fs";
import path from "node:path";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import { memberNkeysFile } from "./nats.ts";
import { readKubeconfigAuth } from "./kwok.ts";
import { agentComponentName, CONTROL_PLANE_COMPONENT, type ClusterLayout, type Layout } from "./layout.ts";
import { CONTROL_PLANE_IDENTITY, pkiLayout } from "./security.ts";

/**
 * The project's own processes as components of the local federation: the control plane
 * on the host and one agent per agent member, with the command lines every part agreed
 * on (README, "the agreed command lines"), so `up`, `stop` and `start` treat them like
 * kube-apiserver. Agents start from given NATS credentials (no Join): the local
 * federation already holds every member's nkey.
 */

export const CONTROL_PLANE_ENTRY = "operator/src/cmd/controller/main.ts";
export const AGENT_ENTRY = "operator/src/cmd/agent/main.ts";

/**
 * The agent's young generation capped at 1 MiB semi-spaces (V8's default grows to 16):
 * measured with 250 Deployments on a member, RSS 171 MB instead of 195 MB for the same
 * live heap; the chart starts it the same way.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];

/**
 * The control plane's young generation capped at 2 MiB semi-spaces: with V8's default
 * (16) it held a heap of 210 MB for 102 MB live at 200 workloads in flight; the chart
 * starts it the same way.
 */
export const CONTROL_PLANE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2"];

/** Local runs use the defaults, written out so the log shows what was asked for. */
const HEARTBEAT = ["--heartbeat-interval", "5s"];

/**
 * Each workload attested at least every 10 s locally (the default is 5 minutes), so that
 * an agent stopped for half a minute shows as a gap in an export of the trail;
 * SOV_ATTESTATION_INTERVAL overrides it (a benchmark of many workloads may want 5m).
 */
function attestationInterval(): string[] {
  return ["--attestation-interval", process.env.SOV_ATTESTATION_INTERVAL || "10s"];
}

/** SOV_LOG_LEVEL (debug, info, ...) for the control plane and the agents; their default otherwise. */
function logLevel(): string[] {
  return process.env.SOV_LOG_LEVEL ? ["--log-level", process.env.SOV_LOG_LEVEL] : [];
}

/** A Node 24 that runs .ts directly: this process's own when it is one, else the repo's pinned one. */
export function nodeBinary(root: string): string {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 24 ? process.execPath : path.join(root, "node_modules", "node", "bin", "node");
}

/** Every nats-server, comma-separated: a client moves to another when its server dies. */
export function natsUrls(layout: Pick<Layout, "nats">): string {
  return layout.nats.map((n) => `tls://127.0.0.1:${n.clientPort}`).join(",");
}

/** An operator component, or why it cannot run yet (its entry file is not written). */
export type OperatorComponent = { component: Component } | { absent: { name: string; reason: string } };

function readyz(port: number): () => Promise<boolean> {
  return async () => (await httpGet({ url: `http://127.0.0.1:${port}/readyz` })).status === 200;
}

function healthz(port: number): () => Promise<boolean> {
  return async () => (await httpGet({ url: `http://127.0.0.1:${port}/healthz` })).status === 200;
}

async function memberClusterDeclared(host: ClusterLayout, name: string): Promise<boolean> {
  const kc = readKubeconfigAuth(host.kubeconfig);
  return (await httpGet({ url: `${kc.server}/apis/sovereignty.eu/v1alpha1/memberclusters/${name}`, ca: kc.ca, token: kc.token })).status === 200;
}

/**
 * An agent is ready once it has read its intents stream, which the control plane
 * creates only for a MemberCluster the host declares. On a fresh federation none is
 * declared until the examples are applied, so until then a live agent (/healthz) is
 * all `up` can ask for; once its MemberCluster exists, readiness means /readyz.
 */
function agentReady(opts: { port: number; host: ClusterLayout; member: string }): () => Promise<boolean> {
  return async () => {
    if (await readyz(opts.port)()) return true;
    return (await healthz(opts.port)()) && !(await memberClusterDeclared(opts.host, opts.member));
  };
}

function entry(root: string, file: string, name: string): { path: string } | { absent: { name: string; reason: string } } {
  const p = path.join(root, file);
  return existsSync(p) ? { path: p } : { absent: { name, reason: `${file} does not exist yet` } };
}

/** `kubeconfig`: the identity it runs as (the chart's ServiceAccount; default the host's admin). */
export function controlPlaneComponent(opts: { layout: Layout; node: string; kubeconfig?: string }): OperatorComponent {
  const { layout } = opts;
  const main = entry(layout.root, CONTROL_PLANE_ENTRY, CONTROL_PLANE_COMPONENT);
  if ("absent" in main) return main;
  const pki = pkiLayout({ stateDir: layout.stateDir, members: layout.clusters.filter((c) => c.role === "member").map((c) => c.name) });
  const metrics = `127.0.0.1:${layout.controlPlaneMetricsPort}`;
  return {
    component: {
      name: CONTROL_PLANE_COMPONENT,
      binary: opts.node,
      args: [
        ...CONTROL_PLANE_NODE_FLAGS,
        main.path,
        "--kubeconfig", opts.kubeconfig ?? layout.clusters.find((c) => c.role === "host")!.kubeconfig,
        "--nats-url", natsUrls(layout),
        "--nats-ca", pki.ca.cert,
        "--nats-creds", pki.natsSeeds[CONTROL_PLANE_IDENTITY]!,
        // Every stream on every server of a cluster: one server's loss loses nothing.
        "--nats-stream-replicas", String(layout.nats.length),
        "--grpc-listen", `127.0.0.1:${layout.grpcPort}`,
        "--grpc-ca", pki.ca.cert,
        "--grpc-cert", pki.grpcServer.cert,
        "--grpc-key", pki.grpcServer.key,
        "--metrics-listen", metrics,
        "--leader-election-namespace", "sovereign-system",
        ...HEARTBEAT,
        "--heartbeat-misses", "3",
        // The aggregated API; the front proxy's CA and names come from the host's
        // kube-system/extension-apiserver-authentication, as in any cluster.
        "--query-listen", `127.0.0.1:${layout.queryPort}`,
        "--query-cert", pki.queryServer.cert,
        "--query-key", pki.queryServer.key,
        "--member-nats-keys", memberNkeysFile(layout),
        ...logLevel(),
      ],
      log: path.join(layout.logDir, "control-plane.log"),
      ports: [layout.grpcPort, layout.controlPlaneMetricsPort, layout.queryPort],
      endpoint: `http://${metrics}/metrics, grpc 127.0.0.1:${layout.grpcPort}`,
      ready: readyz(layout.controlPlaneMetricsPort),
    },
  };
}

/** `kubeconfig`: the identity it runs as (the chart's ServiceAccount; default the member's admin). */
export function agentComponent(opts: { layout: Layout; cluster: ClusterLayout; node: string; kubeconfig?: string }): OperatorComponent {
  const { layout, cluster } = opts;
  const name = agentComponentName(cluster.name);
  const main = entry(layout.root, AGENT_ENTRY, name);
  if ("absent" in main) return main;
  const pki = pkiLayout({ stateDir: layout.stateDir, members: layout.clusters.filter((c) => c.role === "member").map((c) => c.name) });
  const port = cluster.agentMetricsPort!;
  // The guard `up` applies (setup.ts GUARD_MANIFESTS): the agent puts it back when edited or deleted.
  const guard = path.join(layout.root, "charts", "member-agent", "files", "residency-guard.yaml");
  return {
    component: {
      name,
      binary: opts.node,
      args: [
        ...AGENT_NODE_FLAGS,
        main.path,
        "--cluster", cluster.name,
        "--kubeconfig", opts.kubeconfig ?? cluster.kubeconfig,
        "--nats-url", natsUrls(layout),
        "--nats-ca", pki.ca.cert,
        "--nats-creds", pki.natsSeeds[cluster.name]!,
        "--metrics-listen", `127.0.0.1:${port}`,
        ...(existsSync(guard) ? ["--guard-manifests", guard] : []),
        ...HEARTBEAT,
        ...attestationInterval(),
        ...logLevel(),
      ],
      log: path.join(layout.logDir, `${name}.log`),
      ports: [port],
      endpoint: `http://127.0.0.1:${port}/metrics`,
      ready: agentReady({ port, host: layout.clusters.find((c) => c.role === "host")!, member: cluster.name }),
    },
  };
}
