import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import type { Layout } from "./layout.ts";
import type { Tools } from "./tools.ts";

/**
 * The federation's one nats-server, with JetStream, on loopback. Returns the
 * component and the lines it adds to .federation/env.
 */
export function natsComponent(opts: { layout: Layout; tools: Tools }): { component: Component; env: Record<string, string> } {
  const { layout } = opts;
  const dir = path.join(layout.stateDir, "nats");
  const conf = path.join(dir, "nats-server.conf");
  const monitor = `http://127.0.0.1:${layout.natsMonitorPort}`;
  const component: Component = {
    name: "nats-server",
    binary: opts.tools.natsServer,
    args: ["-c", conf],
    log: path.join(layout.logDir, "nats-server.log"),
    ports: [layout.natsPort, layout.natsMonitorPort],
    endpoint: `nats://127.0.0.1:${layout.natsPort}`,
    prepare: () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(conf, natsConfig({ layout, storeDir: path.join(dir, "jetstream") }));
    },
    ready: async () => (await httpGet({ url: `${monitor}/healthz?js-enabled-only=true` })).status === 200,
  };
  return {
    component,
    env: { NATS_URL: `nats://127.0.0.1:${layout.natsPort}`, NATS_MONITOR_URL: monitor },
  };
}

function natsConfig(opts: { layout: Layout; storeDir: string }): string {
  return [
    `server_name: sovereign-federation-${opts.layout.basePort}`,
    `listen: 127.0.0.1:${opts.layout.natsPort}`,
    `http: 127.0.0.1:${opts.layout.natsMonitorPort}`,
    "jetstream {",
    `  store_dir: "${opts.storeDir}"`,
    "  max_memory_store: 256MB",
    "  max_file_store: 2GB",
    "}",
    "",
  ].join("\n");
}
