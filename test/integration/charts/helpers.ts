/**
 * The charts as an admin and their workloads would meet them: helm and kubectl run for
 * real against the local federation, kubeconfigs that hold a ServiceAccount's token (the
 * same auth-provider shape as the charts' kubeconfig ConfigMap), and the control plane
 * and agent run as processes with exactly the identity a chart created.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectl } from "../kubectl.ts";

export const SYSTEM_NAMESPACE = "sovereign-system";
/** Each chart's required values, so "its defaults" render: the defaults plus only these. */
export const REQUIRED_VALUES = {
  // The query APIService's caBundle: any PEM-shaped text renders.
  controlPlane: ["--set", "query.apiService.caBundle=-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"],
  agent: ["--set", "cluster.name=fr", "--set", "join.bootstrapToken=sovtok.test", "--set", "tls.existingSecret=sovereign-agent-tls"],
} as const;
export const CHARTS = { controlPlane: path.join(repoRoot, "charts", "control-plane"), agent: path.join(repoRoot, "charts", "member-agent") } as const;

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], input?: string): Run {
  const r = spawnSync(bin, args, { input, encoding: "utf8", timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

export function helm(env: FederationEnv, args: string[], kubeconfig?: string): Run {
  return run(env.tools.HELM_BIN!, [...(kubeconfig ? ["--kubeconfig", kubeconfig] : []), ...args]);
}

export function helmOk(env: FederationEnv, args: string[], kubeconfig?: string): string {
  const r = helm(env, args, kubeconfig);
  if (r.status !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Every document of a rendered chart, parsed. */
export function documents(yamlText: string): Array<{ apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown }> {
  return yamlText.split(/^---\s*$/m).map((d) => parse(d)).filter((d) => d && typeof d === "object" && "kind" in d);
}

/**
 * Kubeconfigs for `serviceAccount` in `namespace` of the cluster `adminKubeconfig` points
 * at, with a token from `kubectl create token`: `node` reads it through client-node's
 * tokenFile auth provider, as in the charts' kubeconfig ConfigMap; `kubectl` (client-go
 * knows no such provider) holds the same token inline.
 */
export function serviceAccountKubeconfig(params: { env: FederationEnv; adminKubeconfig: string; serviceAccount: string; namespace: string; dir: string; name: string }): { node: string; kubectl: string } {
  const { env, adminKubeconfig, serviceAccount, namespace, dir, name } = params;
  const token = run(env.tools.KUBECTL_BIN!, ["--kubeconfig", adminKubeconfig, "create", "token", serviceAccount, "-n", namespace, "--duration", "2h"]);
  if (token.status !== 0) throw new Error(`kubectl create token ${serviceAccount} -n ${namespace} failed: ${token.stderr}`);
  const admin = parse(readFileSync(adminKubeconfig, "utf8")) as { clusters: Array<{ cluster: Record<string, string> }> };
  const tokenFile = path.join(dir, `${name}.token`);
  writeFileSync(tokenFile, token.stdout.trim(), { mode: 0o600 });
  const write = (file: string, user: Record<string, unknown>) => {
    writeFileSync(file, JSON.stringify({
      apiVersion: "v1", kind: "Config",
      clusters: [{ name, cluster: admin.clusters[0]!.cluster }],
      users: [{ name: serviceAccount, user }],
      contexts: [{ name, context: { cluster: name, user: serviceAccount } }],
      "current-context": name,
    }), { mode: 0o600 });
    return file;
  };
  return {
    node: write(path.join(dir, `${name}.kubeconfig`), { "auth-provider": { name: "tokenFile", config: { tokenFile } } }),
    kubectl: write(path.join(dir, `${name}.kubectl.kubeconfig`), { token: token.stdout.trim() }),
  };
}

/** `kubectl auth can-i` as the identity of `kubeconfig`: true for yes, false for no. */
export function canI(env: FederationEnv, kubeconfig: string, args: string[]): boolean {
  const r = run(env.tools.KUBECTL_BIN!, ["--kubeconfig", kubeconfig, "auth", "can-i", ...args]);
  if (r.stdout.trim() === "yes") return true;
  if (r.stdout.trim().startsWith("no")) return false;
  throw new Error(`kubectl auth can-i ${args.join(" ")}: ${r.stdout}${r.stderr}`);
}

export interface Proc {
  child: ChildProcess;
  exited: Promise<number>;
  output: () => string;
  stop(): Promise<number>;
}

/**
 * node <entry> <args> on the repo's Node 24, output collected for assertions and failures;
 * `env` adds variables, as a pod's spec (the downward API) would.
 */
export function startProcess(entry: string, args: string[], { env = {} }: { env?: Record<string, string> } = {}): Proc {
  const node = path.join(repoRoot, "node_modules", "node", "bin", "node");
  const child = spawn(node, [path.join(repoRoot, entry), ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return {
    child, exited, output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

/** The lines of a process's JSON log that mention a 403, for an assertion message. */
export function forbiddenLines(output: string): string[] {
  return output.split("\n").filter((l) => /forbidden|\b403\b/i.test(l)).slice(0, 5);
}


/** A free loopback port, for the control plane's and agent's listeners the tests start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** `kubectl get ARGS -o json`, parsed; undefined when kubectl fails (not found, most often). */
export function getJson<T>(env: FederationEnv, kubeconfig: string, args: string[]): T | undefined {
  const r = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["get", ...args, "-o", "json"] });
  return r.status === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

/** A Secret's data, decoded; undefined when it does not exist. */
export function secretData(env: FederationEnv, kubeconfig: string, namespace: string, name: string): Record<string, string> | undefined {
  const s = getJson<{ data: Record<string, string> }>(env, kubeconfig, ["secret", name, "-n", namespace]);
  return s && Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}
