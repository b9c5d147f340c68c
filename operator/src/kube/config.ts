import { KubeConfig } from "@kubernetes/client-node";

/**
 * One KubeConfig per cluster: client-node reads auth from the config's current context
 * on every request, so a shared, context-switched config would mix credentials.
 */
export type KubeConfigSource =
  | { kubeconfigFile: string }
  | { server: string; caPem: string; token: string; name?: string };

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
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
