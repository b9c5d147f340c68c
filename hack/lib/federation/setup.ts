import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import type { Layout } from "./layout.ts";

/**
 * What the control plane and the agents need on the clusters before they start: the
 * sovereignty.eu CRDs on the host (Established), the sovereign-system namespace on the
 * host (leader election, bootstrap tokens) and on every agent member, and the residency
 * guard on every agent member. Server-side apply under one field manager: running it on
 * a federation that has all of it changes nothing.
 */

export const SYSTEM_NAMESPACE = "sovereign-system";
export const GUARD_MANIFESTS = "charts/member-agent/files/residency-guard.yaml";
const FIELD_MANAGER = "hack-federation";

function kubectl(opts: { bin: string; kubeconfig: string; args: string[]; input?: string; what: string }): void {
  try {
    execFileSync(opts.bin, ["--kubeconfig", opts.kubeconfig, ...opts.args], { input: opts.input, stdio: ["pipe", "ignore", "pipe"], timeout: 120_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
    throw new Error(`${opts.what} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

function namespaceDoc(name: string): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

export function prepareClusters(opts: { layout: Layout; kubectl: string; timeoutMs: number; say: (line: string) => void }): void {
  const { layout } = opts;
  const host = layout.clusters.find((c) => c.role === "host")!;
  const dir = path.join(layout.root, "crds");
  // The files themselves: crds/examples/ below is the demo's, not the API's.
  const crds = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().flatMap((f) => ["-f", path.join(dir, f)]);
  const apply = ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "--force-conflicts"];
  const seconds = `${Math.max(5, Math.floor(opts.timeoutMs / 1000))}s`;
  opts.say("host: applying the sovereignty.eu CRDs and waiting for them to be Established");
  kubectl({ bin: opts.kubectl, kubeconfig: host.kubeconfig, args: [...apply, ...crds], what: "applying crds/ to the host" });
  kubectl({ bin: opts.kubectl, kubeconfig: host.kubeconfig, args: ["wait", "--for=condition=Established", `--timeout=${seconds}`, ...crds], what: "waiting for the CRDs to be Established" });
  const guard = path.join(layout.root, GUARD_MANIFESTS);
  const agentClusters = layout.clusters.filter((c) => layout.agents.includes(c.name));
  for (const cluster of [host, ...agentClusters]) {
    kubectl({ bin: opts.kubectl, kubeconfig: cluster.kubeconfig, args: [...apply, "-f", "-"], input: namespaceDoc(SYSTEM_NAMESPACE), what: `namespace ${SYSTEM_NAMESPACE} on ${cluster.name}` });
  }
  if (agentClusters.length === 0) return;
  if (!existsSync(guard)) {
    opts.say(`agent members: no residency guard yet (${GUARD_MANIFESTS} does not exist)`);
    return;
  }
  opts.say(`agent members: applying the residency guard (${GUARD_MANIFESTS}) to ${agentClusters.map((c) => c.name).join(", ")}`);
  for (const cluster of agentClusters) {
    kubectl({ bin: opts.kubectl, kubeconfig: cluster.kubeconfig, args: [...apply, "-f", guard], what: `the residency guard on ${cluster.name}` });
  }
}
