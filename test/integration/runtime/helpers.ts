import net from "node:net";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { readFederationEnv } from "../env.ts";

/** The host API server of the local federation, as a client-node config (tests may import client-node). */
export function hostKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(readFederationEnv().hostKubeconfig);
  return kc;
}

/** The same credentials pointed at another address (the relay below). */
export function withServer(kc: KubeConfig, server: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

/**
 * A TCP relay in front of the real API server, so a test can cut the network between a
 * client and the server (TLS passes through untouched): `cut()` destroys every open
 * connection and refuses new ones; `hang()` accepts connections and sends nothing on;
 * `restore()` relays again.
 */
export async function startRelay(target: string) {
  const url = new URL(target);
  const sockets = new Set<net.Socket>();
  let mode: "relay" | "cut" | "hang" = "relay";
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    if (mode === "cut") return client.destroy();
    if (mode === "hang") return;
    const upstream = net.connect({ host: url.hostname, port: Number(url.port || 443) });
    sockets.add(upstream);
    upstream.on("close", () => { sockets.delete(upstream); client.destroy(); });
    upstream.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const dropAll = () => { for (const s of sockets) s.destroy(); };
  return {
    url: `https://127.0.0.1:${port}`,
    cut() { mode = "cut"; dropAll(); },
    hang() { mode = "hang"; dropAll(); },
    /** Relays again; connections held open by hang() are dropped so clients reconnect at once. */
    restore() { if (mode === "hang") dropAll(); mode = "relay"; },
    async close() { dropAll(); await new Promise<void>((resolve) => server.close(() => resolve())); },
  };
}

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
}
