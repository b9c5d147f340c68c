import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";

/** A kubeconfig for the admin: token auth, the API server's own serving cert as CA. */
export function writeKubeconfig(opts: { file: string; cluster: string; server: string; caFile: string; token: string }): void {
  const ca = readFileSync(opts.caFile).toString("base64");
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: opts.cluster, cluster: { server: opts.server, "certificate-authority-data": ca } }],
    users: [{ name: `${opts.cluster}-admin`, user: { token: opts.token } }],
    contexts: [{ name: opts.cluster, context: { cluster: opts.cluster, user: `${opts.cluster}-admin` } }],
    "current-context": opts.cluster,
  };
  writeFileSync(opts.file, stringify(doc), { mode: 0o600 });
}
