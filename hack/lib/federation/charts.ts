import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { httpGet } from "./http.ts";
import { readKubeconfigAuth } from "./kwok.ts";
import { agentComponentName, CONTROL_PLANE_COMPONENT, type ClusterLayout, type Layout } from "./layout.ts";
import { pkiLayout } from "./security.ts";
import { SYSTEM_NAMESPACE } from "./setup.ts";
import type { Tools } from "./tools.ts";

/**
 * The control plane and the agents run under the Helm charts' ServiceAccounts, with
 * exactly the RBAC the charts grant: `up` installs the control-plane chart on the host and
 * the member-agent chart on every agent member, then gives each process a kubeconfig
 * holding a token of its chart's ServiceAccount. The charts' own Deployments run no
 * process here (kwok runs no containers), so they are installed with 0 replicas; the
 * CRDs and the residency guard stay applied by `up` with kubectl (setup.ts), so a test
 * that installs the charts under other release names can take them over and give them
 * back without breaking the federation's releases.
 */

const run = promisify(execFile);

/** Release names no test uses (the charts suite installs `sovereign` and `sovereign-agent`). */
export const CONTROL_PLANE_RELEASE = "federation-control-plane";
export const AGENT_RELEASE = "federation-member-agent";
/** The charts name the ServiceAccount after the release's full name, which is the release name here. */
export const CONTROL_PLANE_SERVICE_ACCOUNT = CONTROL_PLANE_RELEASE;
export const AGENT_SERVICE_ACCOUNT = AGENT_RELEASE;

const TOKEN_SECONDS = 48 * 3600;
/** A later `up` mints a new token when less than this is left (the processes re-read the file every minute). */
export const RENEW_BELOW_SECONDS = 24 * 3600;

export type Rbac = "charts" | "admin";

/** Where a component's token and the kubeconfig that reads it live. */
export function identityFiles(opts: { stateDir: string; component: string }): { kubeconfig: string; token: string } {
  return { kubeconfig: path.join(opts.stateDir, `${opts.component}.kubeconfig`), token: path.join(opts.stateDir, `${opts.component}.token`) };
}

export function serviceAccountUser(serviceAccount: string): string {
  return `system:serviceaccount:${SYSTEM_NAMESPACE}:${serviceAccount}`;
}

export interface Release {
  cluster: ClusterLayout;
  release: string;
  chart: string;
  values: string[];
  component: string;
  serviceAccount: string;
}

/** What `up` installs: the control-plane chart on the host, the member-agent chart on each agent member (none without a control plane). */
export function chartReleases(layout: Layout): Release[] {
  const host = layout.clusters.find((c) => c.role === "host")!;
  const members = layout.clusters.filter((c) => c.role === "member");
  const pki = pkiLayout({ stateDir: layout.stateDir, members: members.map((c) => c.name) });
  const natsUrl = `tls://127.0.0.1:${layout.natsPort}`;
  const out: Release[] = [];
  if (layout.controlPlane) {
    out.push({
      cluster: host, release: CONTROL_PLANE_RELEASE, chart: path.join(layout.root, "charts", "control-plane"),
      component: CONTROL_PLANE_COMPONENT, serviceAccount: CONTROL_PLANE_SERVICE_ACCOUNT,
      values: [
        "--set", "replicaCount=0", "--set", "crds.enabled=false", "--set", `nats.url=${natsUrl}`,
        // The control plane runs on loopback, outside any pod network: the APIService's
        // Service is an ExternalName the aggregator dials, on the query API's port.
        "--set", "query.service.externalName=localhost", "--set", `query.service.port=${layout.queryPort}`,
        "--set-file", `query.apiService.caBundle=${pki.ca.cert}`,
      ],
    });
    for (const cluster of members.filter((c) => layout.agents.includes(c.name))) {
      const client = pki.grpcClients[cluster.name]!;
      out.push({
        cluster, release: AGENT_RELEASE, chart: path.join(layout.root, "charts", "member-agent"),
        component: agentComponentName(cluster.name), serviceAccount: AGENT_SERVICE_ACCOUNT,
        values: [
          "--set", `cluster.name=${cluster.name}`, "--set", "replicaCount=0", "--set", "guard.enabled=false",
          "--set", `controlPlane.grpcAddress=127.0.0.1:${layout.grpcPort}`, "--set", `controlPlane.natsUrl=${natsUrl}`,
          // The local agents start from NATS credentials, not Join: the chart wants a token's Secret all the same.
          "--set", `join.existingSecret=${AGENT_RELEASE}-join-unused`,
          "--set-file", `tls.ca=${pki.ca.cert}`, "--set-file", `tls.cert=${client.cert}`, "--set-file", `tls.key=${client.key}`,
        ],
      });
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)])).sort();
}

/** Changes when the chart's files, the values or the files the values read change. */
function fingerprint(r: Release): string {
  const h = createHash("sha256");
  for (const f of filesUnder(r.chart)) h.update(path.relative(r.chart, f)).update("\0").update(readFileSync(f)).update("\0");
  for (const v of r.values) {
    h.update(v).update("\0");
    const file = /^[a-z.]+=(\/.+)$/i.exec(v)?.[1];
    if (file && existsSync(file)) h.update(readFileSync(file));
  }
  return h.digest("hex");
}

async function exec(opts: { bin: string; args: string[]; what: string }): Promise<string> {
  try {
    return (await run(opts.bin, opts.args, { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`${opts.what} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

async function deployed(opts: { tools: Tools; r: Release }): Promise<boolean> {
  const { r } = opts;
  try {
    const out = await run(opts.tools.helm, ["--kubeconfig", r.cluster.kubeconfig, "status", r.release, "-n", SYSTEM_NAMESPACE, "-o", "json"], { timeout: 60_000 });
    return (JSON.parse(out.stdout) as { info?: { status?: string } }).info?.status === "deployed";
  } catch {
    return false;
  }
}

/** Installs or upgrades one release, unless it is deployed from the same chart and values already. */
async function ensureRelease(opts: { layout: Layout; tools: Tools; r: Release; say: (l: string) => void }): Promise<void> {
  const { r } = opts;
  const dir = path.join(opts.layout.stateDir, "charts");
  mkdirSync(dir, { recursive: true });
  const record = path.join(dir, `${r.release}@${r.cluster.name}.sha256`);
  const want = fingerprint(r);
  if (existsSync(record) && readFileSync(record, "utf8") === want && (await deployed(opts))) return;
  opts.say(`${r.cluster.name}: helm upgrade --install ${r.release} (${path.relative(opts.layout.root, r.chart)}) in ${SYSTEM_NAMESPACE}`);
  const t0 = Date.now();
  await exec({
    bin: opts.tools.helm,
    args: ["--kubeconfig", r.cluster.kubeconfig, "upgrade", "--install", r.release, r.chart, "-n", SYSTEM_NAMESPACE, ...r.values],
    what: `helm upgrade --install ${r.release} on ${r.cluster.name}`,
  });
  writeFileSync(record, want);
  opts.say(`${r.cluster.name}: ${r.release} deployed (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

function tokenClaims(token: string): { exp?: number; sub?: string } {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: number; sub?: string };
  } catch {
    return {};
  }
}

/** Whether a token is the ServiceAccount's and has at least RENEW_BELOW_SECONDS left (a malformed one has not). */
export function tokenFresh(opts: { token: string; serviceAccount: string; nowSeconds: number }): boolean {
  const claims = tokenClaims(opts.token);
  return claims.sub === serviceAccountUser(opts.serviceAccount) && typeof claims.exp === "number" && claims.exp - opts.nowSeconds >= RENEW_BELOW_SECONDS;
}

/** A fresh token that the API server still accepts (the account was not recreated since). */
async function tokenUsable(opts: { cluster: ClusterLayout; file: string; serviceAccount: string }): Promise<boolean> {
  if (!existsSync(opts.file)) return false;
  const token = readFileSync(opts.file, "utf8").trim();
  if (!tokenFresh({ token, serviceAccount: opts.serviceAccount, nowSeconds: Date.now() / 1000 })) return false;
  const kc = readKubeconfigAuth(opts.cluster.kubeconfig);
  return (await httpGet({ url: `${kc.server}/version`, ca: kc.ca, token }).catch(() => ({ status: 0 }))).status === 200;
}

/**
 * client-node's tokenFile auth provider re-reads the file every minute (as the charts'
 * own kubeconfig ConfigMap has it), so a renewed token reaches a running process
 * without a restart. kubectl knows no such provider: give it the token with --token.
 */
function writeIdentityKubeconfig(opts: { cluster: ClusterLayout; files: { kubeconfig: string; token: string }; serviceAccount: string }): void {
  const kc = readKubeconfigAuth(opts.cluster.kubeconfig);
  const doc = JSON.stringify({
    apiVersion: "v1", kind: "Config",
    clusters: [{ name: opts.cluster.name, cluster: { server: kc.server, "certificate-authority-data": Buffer.from(kc.ca).toString("base64") } }],
    users: [{ name: opts.serviceAccount, user: { "auth-provider": { name: "tokenFile", config: { tokenFile: opts.files.token } } } }],
    contexts: [{ name: opts.cluster.name, context: { cluster: opts.cluster.name, user: opts.serviceAccount, namespace: SYSTEM_NAMESPACE } }],
    "current-context": opts.cluster.name,
  }, null, 2) + "\n";
  if (!existsSync(opts.files.kubeconfig) || readFileSync(opts.files.kubeconfig, "utf8") !== doc) writeFileSync(opts.files.kubeconfig, doc, { mode: 0o600 });
}

async function ensureIdentity(opts: { layout: Layout; tools: Tools; r: Release; say: (l: string) => void }): Promise<void> {
  const { r } = opts;
  const files = identityFiles({ stateDir: opts.layout.stateDir, component: r.component });
  if (!(await tokenUsable({ cluster: r.cluster, file: files.token, serviceAccount: r.serviceAccount }))) {
    opts.say(`${r.cluster.name}: minting a token of ServiceAccount ${SYSTEM_NAMESPACE}/${r.serviceAccount} for ${r.component}`);
    const token = await exec({
      bin: opts.tools.kubectl,
      args: ["--kubeconfig", r.cluster.kubeconfig, "create", "token", r.serviceAccount, "-n", SYSTEM_NAMESPACE, "--duration", `${TOKEN_SECONDS}s`],
      what: `kubectl create token ${r.serviceAccount} on ${r.cluster.name}`,
    });
    writeFileSync(files.token, token.trim(), { mode: 0o600 });
  }
  writeIdentityKubeconfig({ cluster: r.cluster, files, serviceAccount: r.serviceAccount });
}

/** The releases (members in parallel) and the identities the control plane and agents run as. */
export async function installCharts(opts: { layout: Layout; tools: Tools; say: (l: string) => void }): Promise<void> {
  const all = chartReleases(opts.layout);
  await Promise.all(all.map(async (r) => {
    await ensureRelease({ ...opts, r });
    await ensureIdentity({ ...opts, r });
  }));
}

/** The kubeconfig an operator component runs with: its chart identity's, or the cluster admin's. */
export function componentKubeconfig(opts: { layout: Layout; rbac: Rbac; cluster: ClusterLayout; component: string }): string {
  return opts.rbac === "charts" ? identityFiles({ stateDir: opts.layout.stateDir, component: opts.component }).kubeconfig : opts.cluster.kubeconfig;
}
