/**
 * Kubeconfigs holding a ServiceAccount's token: a person, or a chart's workload, with
 * nothing but a kubeconfig. The cluster entry is the admin kubeconfig's current one; the
 * context's namespace is the ServiceAccount's.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

interface Kubeconfig {
  "current-context"?: string;
  clusters: { name: string; cluster: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string } }[];
}

/**
 * `kubectl`: the token inline (what kubectl and the plugin read). `node`: the token read
 * from a file beside it, the auth-provider shape of the charts' kubeconfig ConfigMap (what
 * the operator's processes read through client-node; client-go knows no such provider). Both files are mode 0600 in `dir`, named after `name`.
 */
export function serviceAccountKubeconfig(params: {
  kubectl: string; adminKubeconfig: string; serviceAccount: string; namespace: string; dir: string;
  /** File name stem (default: the ServiceAccount's name). */
  name?: string;
  /** Token lifetime (default 2h: longer than any suite). */
  duration?: string;
}): { kubectl: string; node: string } {
  const { serviceAccount, namespace, dir } = params;
  const name = params.name ?? serviceAccount;
  const token = execFileSync(params.kubectl, ["--kubeconfig", params.adminKubeconfig, "create", "token", serviceAccount, "-n", namespace, "--duration", params.duration ?? "2h"], { encoding: "utf8" }).trim();
  const admin = parse(readFileSync(params.adminKubeconfig, "utf8")) as Kubeconfig;
  const current = admin.contexts?.find((c) => c.name === admin["current-context"])?.context.cluster;
  const cluster = (admin.clusters.find((c) => c.name === current) ?? admin.clusters[0])?.cluster;
  if (!cluster) throw new Error(`${params.adminKubeconfig} names no cluster`);
  const tokenFile = path.join(dir, `${name}.token`);
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const write = (file: string, user: Record<string, unknown>) => {
    writeFileSync(file, JSON.stringify({
      apiVersion: "v1", kind: "Config",
      clusters: [{ name, cluster }],
      users: [{ name: serviceAccount, user }],
      contexts: [{ name, context: { cluster: name, user: serviceAccount, namespace } }],
      "current-context": name,
    }), { mode: 0o600 });
    return file;
  };
  return {
    kubectl: write(path.join(dir, `${name}.kubeconfig`), { token }),
    node: write(path.join(dir, `${name}.node.kubeconfig`), { "auth-provider": { name: "tokenFile", config: { tokenFile } } }),
  };
}
