/**
 * The charts as an admin and their workloads would meet them: helm and kubectl run for
 * real against the local federation, kubeconfigs that hold a ServiceAccount's token (the
 * same auth-provider shape as the charts' kubeconfig ConfigMap), and the control plane
 * and agent run as processes with exactly the identity a chart created.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { startComponent, status, stopComponent } from "../../../hack/lib/federation/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { federationStateDir, repoRoot } from "../env.ts";
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


export { freePort } from "../../support/processes.ts";

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

const CONTROL_PLANE = "control-plane";

/**
 * The federation's own control plane steps aside while a test runs one from a release:
 * two on one set of CRDs would fight over every workload. Returns whether it was running,
 * for federationControlPlaneBack.
 */
export async function federationControlPlaneAside(): Promise<boolean> {
  const rows = await status({ root: repoRoot, stateDir: federationStateDir() });
  if (!rows?.some((r) => r.component === CONTROL_PLANE && r.running)) return false;
  await stopComponent({ root: repoRoot, stateDir: federationStateDir(), component: CONTROL_PLANE, timeoutMs: 60_000 });
  return true;
}

export async function federationControlPlaneBack(wasRunning: boolean): Promise<void> {
  if (wasRunning) await startComponent({ root: repoRoot, stateDir: federationStateDir(), component: CONTROL_PLANE, timeoutMs: 120_000 });
}

/** Starts `entry` and waits for its /readyz on `metricsPort`; fails with its output if it exits or never gets ready. */
async function startReady(what: string, entry: string, args: string[], metricsPort: number, env: Record<string, string>): Promise<Proc> {
  const proc = startProcess(entry, [...args, "--metrics-listen", `127.0.0.1:${metricsPort}`], { env });
  await waitFor(async () => (await httpStatus(`http://127.0.0.1:${metricsPort}/readyz`)) === 200 || (proc.child.exitCode !== null ? Promise.reject(new Error(proc.output())) : false), { what: `the ${what}'s /readyz`, timeoutMs: 90_000, intervalMs: 250 })
    .catch((err: unknown) => { throw new Error(`${what} not ready: ${proc.output().slice(-3000)}`, { cause: err }); });
  return proc;
}

/** What the pod's downward API gives the process: its release namespace (unset: the flag defaults apply). */
const podEnv = (podNamespace: string | undefined): Record<string, string> => (podNamespace ? { POD_NAMESPACE: podNamespace } : {});

/**
 * The control plane as the release's pod would run it, under `kubeconfig` (its
 * ServiceAccount's), ready. 1 s heartbeats and 10 misses before NotReady: nothing in these
 * suites waits for NotReady, and on a loaded 2-core machine an event loop can stall for seconds.
 */
export function startReleaseControlPlane(p: { env: FederationEnv; kubeconfig: string; grpcPort: number; metricsPort: number; podNamespace?: string; args?: string[] }): Promise<Proc> {
  const v = p.env.vars;
  return startReady("control plane", "operator/src/cmd/controller/main.ts", [
    "--kubeconfig", p.kubeconfig, "--nats-url", p.env.natsUrl, "--nats-ca", v.NATS_CA!, "--nats-creds", v.NATS_CREDS_CONTROL_PLANE!,
    "--grpc-listen", `127.0.0.1:${p.grpcPort}`, "--grpc-ca", v.GRPC_CA!, "--grpc-cert", v.GRPC_SERVER_CERT!, "--grpc-key", v.GRPC_SERVER_KEY!,
    "--heartbeat-interval", "1s", "--heartbeat-misses", "10", ...(p.args ?? []),
  ], p.metricsPort, podEnv(p.podNamespace));
}

/**
 * The agent as the member release's pod would run it, under `kubeconfig`, ready: its TLS
 * material and bootstrap token are what the chart put in its Secrets (`<prefix>-tls`,
 * `<prefix>-join` in `namespace` on the member), written to `dir` as the pod would mount them.
 */
export function startReleaseAgent(p: {
  env: FederationEnv; member: string; memberKubeconfig: string; kubeconfig: string; namespace: string; secretPrefix: string;
  grpcPort: number; metricsPort: number; dir: string; podNamespace?: string;
}): Promise<Proc> {
  const tls = secretData(p.env, p.memberKubeconfig, p.namespace, `${p.secretPrefix}-tls`)!;
  const join = secretData(p.env, p.memberKubeconfig, p.namespace, `${p.secretPrefix}-join`)!;
  for (const [k, v] of Object.entries({ "ca.crt": tls["ca.crt"]!, "tls.crt": tls["tls.crt"]!, "tls.key": tls["tls.key"]!, token: join.token! })) writeFileSync(path.join(p.dir, k), v, { mode: 0o600 });
  const f = (name: string) => path.join(p.dir, name);
  return startReady("agent", "operator/src/cmd/agent/main.ts", [
    "--cluster", p.member, "--kubeconfig", p.kubeconfig, "--nats-url", p.env.natsUrl, "--nats-ca", f("ca.crt"),
    "--join-address", `127.0.0.1:${p.grpcPort}`, "--grpc-ca", f("ca.crt"), "--grpc-cert", f("tls.crt"), "--grpc-key", f("tls.key"),
    "--bootstrap-token-file", f("token"), "--heartbeat-interval", "1s",
  ], p.metricsPort, podEnv(p.podNamespace));
}
