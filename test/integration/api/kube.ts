// kubectl against the host cluster, for the API tests.
import path from "node:path";
import { readFederationEnv, repoRoot } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import type { KubectlResult } from "../kubectl.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";

export const crdsDir = path.join(repoRoot, "crds");
export const CRD_NAMES = ["memberclusters.sovereignty.eu", "residencypolicies.sovereignty.eu", "sovereignworkloads.sovereignty.eu"];

export interface Host {
  run(args: string[], input?: string): KubectlResult;
  ok(args: string[], input?: string): string;
}

/** SOVEREIGN_FEDERATION_ROOT points these tests at another checkout's running federation. */
export function host(): Host {
  const env = readFederationEnv(process.env.SOVEREIGN_FEDERATION_ROOT || undefined);
  const bin = env.tools.KUBECTL_BIN;
  if (!bin) throw new Error("hack/build-tools --print gave no KUBECTL_BIN");
  return {
    run: (args, input) => kubectl({ bin, kubeconfig: env.hostKubeconfig, args, ...(input !== undefined ? { input } : {}) }),
    ok: (args, input) => kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args, ...(input !== undefined ? { input } : {}) }),
  };
}

/** Applies the CRDs and waits until the API server serves them (Established) and publishes their OpenAPI. */
export async function installCrds(kube: Host): Promise<void> {
  kube.ok(["apply", "-f", crdsDir]);
  kube.ok(["wait", "--for=condition=Established", "--timeout=60s", ...CRD_NAMES.map((n) => `crd/${n}`)]);
  // kubectl explain reads the OpenAPI v3 document, which the API server publishes shortly after Established.
  await waitFor(() => kube.run(["explain", "sovereignworkload.spec.residency"]).status === 0, { what: "OpenAPI for sovereignworkloads", timeoutMs: 60_000, intervalMs: 500 });
}
