import { KubeConfig } from "@kubernetes/client-node";
import type { RequestContext } from "@kubernetes/client-node";

/**
 * One KubeConfig per cluster: client-node reads auth from the config's current context
 * on every request, so a shared, context-switched config would mix credentials.
 */
export type KubeConfigSource =
  | { kubeconfigFile: string }
  | { server: string; caPem: string; token: string; name?: string };

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/**
 * A KubeConfig whose requests share one keep-alive dispatcher per (cluster, user), as
 * client-go shares one transport per rest config. client-node 2.x builds a new undici
 * Agent for every request (KubeConfig.applySecurityAuthentication → createDispatcher),
 * so each request, watches included, opened its own TLS connection: up to 116 at once
 * to the host API server in a burst of 40 workloads. With one Agent the connections
 * are reused, and undici negotiates HTTP/2 with the API server (ALPN), so requests and
 * watches are multiplexed over one connection. Credentials are headers, set on each
 * request as before (a renewed token file is still read); only the TLS identity (CA,
 * client certificate) is fixed per Agent, keyed as client-node keys its own agent cache.
 */
export class SharedDispatcherKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    const key = JSON.stringify([this.getCurrentCluster()?.name ?? "", this.getCurrentUser()?.name ?? ""]);
    const shared = this.#dispatchers.get(key);
    if (shared === undefined) {
      this.#dispatchers.set(key, fresh);
      return;
    }
    // The Agent just built has no connection yet: dropping it costs nothing.
    context.setDispatcher(shared);
  }

  /** Dispatchers held (one per cluster and user used so far). */
  get dispatchers(): number {
    return this.#dispatchers.size;
  }

  /** Closes the shared connections (a process that stops using this config). */
  async close(): Promise<void> {
    const all = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new SharedDispatcherKubeConfig();
  if ("kubeconfigFile" in source) {
    kc.loadFromFile(source.kubeconfigFile);
    return kc;
  }
  const name = source.name ?? "cluster";
  kc.loadFromOptions({
    clusters: [{ name, server: source.server, caData: Buffer.from(source.caPem).toString("base64"), skipTLSVerify: false }],
    users: [{ name, token: source.token }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kc;
}
