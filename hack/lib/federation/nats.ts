import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CONTROL_PLANE_ACCOUNT, controlPlanePermissions, memberAccount, memberAccountLimits, memberPermissions, memberServices } from "../../../operator/src/federation/nats/protocol.ts";
import type { NatsPermissions } from "../../../operator/src/federation/nats/protocol.ts";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import type { Layout, NatsServerLayout } from "./layout.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { CONTROL_PLANE_IDENTITY, ensurePki, natsPublicKeys, pkiComplete, pkiLayout, securityEnv } from "./security.ts";
import type { Pki } from "./security.ts";
import type { Tools } from "./tools.ts";

/**
 * The federation's nats-server, with JetStream, on loopback: one server, or (with
 * `--nats-cluster 3`) a JetStream cluster of three joined by routes, each with its own
 * store. Every server gets the same TLS, the same accounts and the same per-identity
 * permissions, which the federation protocol module derives
 * (operator/src/federation/nats/protocol.ts), so each enforces exactly what the code
 * assumes. Returns the components, the lines they add to .federation/env (the NATS and
 * gRPC secrets included), and, for a cluster, the wait for it to form.
 */
export function natsComponents(opts: { layout: Layout; tools: Tools }): { components: Component[]; env: Record<string, string>; formed?: (p: { deadline: number; say: (line: string) => void }) => Promise<void> } {
  const { layout } = opts;
  const members = layout.clusters.filter((c) => c.role === "member").map((c) => c.name);
  const pki = pkiLayout({ stateDir: layout.stateDir, members });
  const clustered = layout.nats.length > 1;
  const components = layout.nats.map((server): Component => {
    const conf = path.join(server.dir, "nats-server.conf");
    const monitor = `http://127.0.0.1:${server.monitorPort}`;
    const render = () => natsConfig({ layout, server, storeDir: path.join(server.dir, "jetstream"), pki, members });
    return {
      name: server.name,
      binary: opts.tools.natsServer,
      args: ["-c", conf],
      log: server.log,
      ports: [server.clientPort, server.monitorPort, ...(server.routePort !== undefined ? [server.routePort] : [])],
      endpoint: `tls://127.0.0.1:${server.clientPort}`,
      prepare: () => {
        ensurePki({ pki });
        mkdirSync(server.dir, { recursive: true });
        writeFileSync(conf, render(), { mode: 0o600 });
        // The members' public nkeys, as this config declares them: the keys the control
        // plane checks member attestations against (--member-nats-keys).
        const keys = natsPublicKeys(pki);
        mkdirSync(path.dirname(memberNkeysFile(layout)), { recursive: true });
        writeFileSync(memberNkeysFile(layout), `${JSON.stringify(Object.fromEntries(members.map((m) => [m, keys[m]])), null, 2)}\n`);
      },
      // A server started before TLS and auth existed, or for other members, must not be
      // reused silently: JetStream's store survives the restart.
      outdated: () => !pkiComplete(pki) || !existsSync(conf) || readFileSync(conf, "utf8") !== render(),
      // Serving with JetStream on: a cluster server counts as started even while its peers
      // are away (a restarted server catches up after; `formed` waits for the whole cluster).
      ready: async () => (await httpGet({ url: `${monitor}/healthz?js-enabled-only=true` })).status === 200,
    };
  });
  const urls = layout.nats.map((n) => `tls://127.0.0.1:${n.clientPort}`);
  const monitors = layout.nats.map((n) => `http://127.0.0.1:${n.monitorPort}`);
  return {
    components,
    env: {
      // tls:// tells every client that TLS is required before it connects. NATS_URL is the
      // first server (a client of either shape finds it there); NATS_URLS all of them.
      NATS_URL: urls[0]!,
      NATS_URLS: urls.join(","),
      NATS_MONITOR_URL: monitors[0]!,
      NATS_MONITOR_URLS: monitors.join(","),
      // The replica count streams should have on this shape (the control plane's --nats-stream-replicas).
      NATS_STREAM_REPLICAS: String(layout.nats.length),
      ...securityEnv(pki),
    },
    ...(clustered ? { formed: (p: { deadline: number; say: (line: string) => void }) => waitClusterFormed({ monitors, names: layout.nats.map((n) => n.name), ...p }) } : {}),
  };
}

/** What /jsz says of the JetStream meta group (the Raft group that places streams). */
interface MetaCluster {
  name?: string;
  leader?: string;
  cluster_size?: number;
  replicas?: { name: string; current: boolean; offline?: boolean }[];
}

export async function metaClusterOf(monitor: string): Promise<MetaCluster | undefined> {
  const res = await httpGet({ url: `${monitor}/jsz` });
  if (res.status !== 200) return undefined;
  return (JSON.parse(res.body) as { meta_cluster?: MetaCluster }).meta_cluster;
}

/**
 * A JetStream cluster is usable once its meta group has a leader that every server
 * agrees on, which sees every peer current, and each server's full /healthz (JetStream meta and
 * every stream it hosts current) answers 200. Says each step as it happens.
 */
async function waitClusterFormed(opts: { monitors: string[]; names: string[]; deadline: number; say: (line: string) => void }): Promise<void> {
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  opts.say(`waiting for the JetStream cluster of ${opts.monitors.length} to elect a meta leader`);
  let leader = "";
  let lastLine = 0;
  await waitFor(async () => {
    const metas = await Promise.all(opts.monitors.map((m) => metaClusterOf(m).catch(() => undefined)));
    const leaders = new Set(metas.map((m) => m?.leader ?? ""));
    const l = metas[0]?.leader ?? "";
    if (l && l !== leader) {
      leader = l;
      opts.say(`JetStream meta leader elected: ${l} (${since()})`);
    }
    // Only the leader tracks whether its peers are current; the followers report none.
    const current = metas.some((m) => (m?.replicas ?? []).filter((r) => r.current && !r.offline).length === opts.monitors.length - 1);
    if (Date.now() - lastLine > 5000 && !(leaders.size === 1 && l && current)) {
      lastLine = Date.now();
      opts.say(`  meta group: ${metas.map((m, i) => `${opts.names[i]} sees leader ${m?.leader || "none"}`).join(", ")}`);
    }
    return leaders.size === 1 && l !== "" && current;
  }, { what: "the JetStream cluster's meta group to form", timeoutMs: Math.max(0, opts.deadline - Date.now()), intervalMs: 250 });
  await waitFor(async () => {
    const codes = await Promise.all(opts.monitors.map(async (m) => (await httpGet({ url: `${m}/healthz` }).catch(() => ({ status: 0 }))).status));
    return codes.every((c) => c === 200);
  }, { what: "every JetStream cluster server's /healthz", timeoutMs: Math.max(0, opts.deadline - Date.now()), intervalMs: 250 });
  opts.say(`JetStream cluster ready: ${opts.names.join(", ")}, meta leader ${leader} (${since()})`);
}

/** Where `prepare` writes each member's public nkey for the control plane. */
export function memberNkeysFile(layout: Pick<Layout, "stateDir">): string {
  return path.join(layout.stateDir, "nats", "member-nkeys.json");
}

function permissionsBlock(p: NatsPermissions): string {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
  const side = (s: { allow: string[]; deny?: string[] }) =>
    `{ allow: ${list(s.allow)}${s.deny?.length ? `, deny: ${list(s.deny)}` : ""} }`;
  // No allow_responses: it would let an identity publish to any reply subject it sees.
  return `{ publish: ${side(p.publish)}, subscribe: ${side(p.subscribe)} }`;
}

/**
 * One account for the control plane and the streams, one per member (see
 * CONTROL_PLANE_ACCOUNT in protocol.ts for why): the control plane's account exports
 * each member's services to that member's account alone, the member's account imports
 * them. Per-user permissions stay on as a second layer.
 */
function accountsBlock(opts: { keys: Record<string, string>; members: string[] }): string[] {
  const q = (x: string) => JSON.stringify(x);
  const limits = memberAccountLimits();
  const exports = opts.members.flatMap((m) => memberServices(m).map((svc) =>
    `      { service: ${q(svc.subject)}, accounts: [${q(memberAccount(m))}], response_type: ${svc.responseType} }`));
  return [
    "accounts {",
    `  ${CONTROL_PLANE_ACCOUNT} {`,
    "    jetstream: enabled",
    "    users: [",
    `      # ${CONTROL_PLANE_IDENTITY}`,
    `      { nkey: ${opts.keys[CONTROL_PLANE_IDENTITY]}, permissions: ${permissionsBlock(controlPlanePermissions())} }`,
    "    ]",
    "    exports: [",
    ...exports,
    "    ]",
    "  }",
    ...opts.members.flatMap((m) => [
      `  # member ${m}`,
      `  ${memberAccount(m)} {`,
      // Members use the control plane's JetStream through imports; a store of their own
      // would only be room to fill.
      "    jetstream: disabled",
      // Account limits: with one user per account, the member's per-user caps.
      `    limits: { max_payload: ${limits.maxPayload}, max_subscriptions: ${limits.maxSubscriptions}, max_connections: ${limits.maxConnections} }`,
      "    users: [",
      `      { nkey: ${opts.keys[m]}, permissions: ${permissionsBlock(memberPermissions(m))} }`,
      "    ]",
      "    imports: [",
      ...memberServices(m).map((svc) => `      { service: { account: ${q(CONTROL_PLANE_ACCOUNT)}, subject: ${q(svc.subject)} } }`),
      "    ]",
      "  }",
    ]),
    "}",
  ];
}

/**
 * A JetStream cluster's routes, on loopback: mutual TLS under the route CA (verify: a
 * peer without a route certificate is refused), and no_advertise, so clients know only
 * the servers they were given: a test's TCP proxy in front of each server then cuts a
 * client off for real, instead of the client reconnecting straight to an advertised port.
 */
export function clusterBlock(opts: { layout: Layout; server: NatsServerLayout; pki: Pki }): string[] {
  if (opts.server.routePort === undefined) return [];
  const peers = opts.layout.nats.filter((n) => n.name !== opts.server.name && n.routePort !== undefined);
  return [
    "cluster {",
    `  name: sovereign-federation-${opts.layout.basePort}`,
    `  listen: 127.0.0.1:${opts.server.routePort}`,
    "  no_advertise: true",
    "  tls {",
    `    cert_file: ${JSON.stringify(opts.pki.natsRoute.cert)}`,
    `    key_file: ${JSON.stringify(opts.pki.natsRoute.key)}`,
    `    ca_file: ${JSON.stringify(opts.pki.natsRouteCa.cert)}`,
    "    verify: true",
    "    timeout: 5",
    "  }",
    `  routes: [${peers.map((n) => JSON.stringify(`nats-route://127.0.0.1:${n.routePort}`)).join(", ")}]`,
    "}",
  ];
}

function natsConfig(opts: { layout: Layout; server: NatsServerLayout; storeDir: string; pki: Pki; members: string[] }): string {
  const keys = natsPublicKeys(opts.pki);
  const clustered = opts.server.routePort !== undefined;
  return [
    // Unique per server: JetStream's Raft groups name their peers by it.
    `server_name: sovereign-federation-${opts.layout.basePort}${clustered ? `-${opts.server.name}` : ""}`,
    `listen: 127.0.0.1:${opts.server.clientPort}`,
    `http: 127.0.0.1:${opts.server.monitorPort}`,
    "tls {",
    `  cert_file: ${JSON.stringify(opts.pki.natsServer.cert)}`,
    `  key_file: ${JSON.stringify(opts.pki.natsServer.key)}`,
    `  ca_file: ${JSON.stringify(opts.pki.ca.cert)}`,
    "  timeout: 5",
    "}",
    ...clusterBlock({ layout: opts.layout, server: opts.server, pki: opts.pki }),
    ...accountsBlock({ keys, members: opts.members }),
    "jetstream {",
    `  store_dir: ${JSON.stringify(opts.storeDir)}`,
    "  max_memory_store: 256MB",
    "  max_file_store: 2GB",
    // Fsync before acknowledging: the audit stream must not lose an acknowledged record
    // on an OS crash (Jepsen, NATS 2.12.1). The option is server-wide; intents pay for it too.
    "  sync_interval: always",
    "}",
    "",
  ].join("\n");
}
