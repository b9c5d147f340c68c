import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CONTROL_PLANE_ACCOUNT, controlPlanePermissions, memberAccount, memberAccountLimits, memberPermissions, memberServices } from "../../../operator/src/federation/nats/protocol.ts";
import type { NatsPermissions } from "../../../operator/src/federation/nats/protocol.ts";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import type { Layout } from "./layout.ts";
import { CONTROL_PLANE_IDENTITY, ensurePki, natsPublicKeys, pkiComplete, pkiLayout, securityEnv } from "./security.ts";
import type { Pki } from "./security.ts";
import type { Tools } from "./tools.ts";

/**
 * The federation's one nats-server, with JetStream, on loopback: TLS required, one nkey
 * user per member and one for the control plane, each with the permissions the
 * federation protocol module derives (operator/src/federation/nats/protocol.ts), so the
 * server enforces exactly what the code assumes. Returns the component and the lines it
 * adds to .federation/env (the NATS and gRPC secrets included).
 */
export function natsComponent(opts: { layout: Layout; tools: Tools }): { component: Component; env: Record<string, string> } {
  const { layout } = opts;
  const dir = path.join(layout.stateDir, "nats");
  const conf = path.join(dir, "nats-server.conf");
  const monitor = `http://127.0.0.1:${layout.natsMonitorPort}`;
  const members = layout.clusters.filter((c) => c.role === "member").map((c) => c.name);
  const pki = pkiLayout({ stateDir: layout.stateDir, members });
  const render = () => natsConfig({ layout, storeDir: path.join(dir, "jetstream"), pki, members });
  const component: Component = {
    name: "nats-server",
    binary: opts.tools.natsServer,
    args: ["-c", conf],
    log: path.join(layout.logDir, "nats-server.log"),
    ports: [layout.natsPort, layout.natsMonitorPort],
    endpoint: `tls://127.0.0.1:${layout.natsPort}`,
    prepare: () => {
      ensurePki({ pki });
      mkdirSync(dir, { recursive: true });
      writeFileSync(conf, render(), { mode: 0o600 });
      // The members' public nkeys, as this config declares them: the keys the control
      // plane checks member attestations against (--member-nats-keys).
      const keys = natsPublicKeys(pki);
      writeFileSync(memberNkeysFile(layout), `${JSON.stringify(Object.fromEntries(members.map((m) => [m, keys[m]])), null, 2)}\n`);
    },
    // A server started before TLS and auth existed, or for other members, must not be
    // reused silently: JetStream's store survives the restart.
    outdated: () => !pkiComplete(pki) || !existsSync(conf) || readFileSync(conf, "utf8") !== render(),
    ready: async () => (await httpGet({ url: `${monitor}/healthz?js-enabled-only=true` })).status === 200,
  };
  return {
    component,
    env: {
      // tls:// tells every client that TLS is required before it connects.
      NATS_URL: `tls://127.0.0.1:${layout.natsPort}`,
      NATS_MONITOR_URL: monitor,
      ...securityEnv(pki),
    },
  };
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

function natsConfig(opts: { layout: Layout; storeDir: string; pki: Pki; members: string[] }): string {
  const keys = natsPublicKeys(opts.pki);
  return [
    `server_name: sovereign-federation-${opts.layout.basePort}`,
    `listen: 127.0.0.1:${opts.layout.natsPort}`,
    `http: 127.0.0.1:${opts.layout.natsMonitorPort}`,
    "tls {",
    `  cert_file: ${JSON.stringify(opts.pki.natsServer.cert)}`,
    `  key_file: ${JSON.stringify(opts.pki.natsServer.key)}`,
    `  ca_file: ${JSON.stringify(opts.pki.ca.cert)}`,
    "  timeout: 5",
    "}",
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
