import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { componentKubeconfig, installCharts, type Rbac } from "./charts.ts";
import type { Component } from "./component.ts";
import { layoutEnv, writeEnvFile } from "./env.ts";
import { etcdComponent } from "./etcd.ts";
import { httpGet, portInUse } from "./http.ts";
import { ADMIN_USER, apiserverComponent, controllerManagerComponent, schedulerComponent } from "./kube.ts";
import { kwokComponent, readKubeconfigAuth } from "./kwok.ts";
import { agentComponentName, CONTROL_PLANE_COMPONENT, type ClusterLayout, type Layout, makeLayout, NATS_SINGLE_COMPONENT } from "./layout.ts";
import { natsComponents } from "./nats.ts";
import { agentComponent, controlPlaneComponent, nodeBinary, type OperatorComponent } from "./operator.ts";
import { ComponentStartError, type RecordedProcess, isRunning, startDetached, type StopSignal, stopProcess } from "./process.ts";
import { prepareClusters } from "./setup.ts";
import { type FederationState, readState, writeState } from "./state.ts";
import { type Tools, toolPaths } from "./tools.ts";

export interface UpOptions {
  root: string;
  /** Where state, logs, kubeconfigs and env go; normally <root>/.federation. */
  stateDir: string;
  basePort: number;
  members: string[];
  /** Members that run an agent (default none). */
  agents?: string[];
  /** Run the control plane (default true). */
  controlPlane?: boolean;
  /**
   * Whose identity the control plane and agents run under: "charts" (default) installs the
   * Helm charts and uses their ServiceAccounts' tokens; "admin" uses the clusters' admin.
   */
  rbac?: Rbac;
  nodesPerMember: number;
  /** nats-servers: 1 (default) or a JetStream cluster of 3 (`--nats-cluster 3`). */
  natsCluster?: number;
  timeoutMs: number;
  progress: (line: string) => void;
}

/** The wrong flags for a federation that is already running: say so, change nothing. */
export class FederationMismatchError extends Error {
  override readonly name = "FederationMismatchError";
  readonly retryable = false;
}

/** A component name `stop`/`start` does not know. */
export class UnknownComponentError extends Error {
  override readonly name = "UnknownComponentError";
  readonly retryable = false;
}

interface Plan {
  /** Kubernetes and NATS, in start order (each phase waits for the one before). */
  infrastructure: Component[][];
  /** The control plane, then the agents; run once the clusters are prepared. */
  operator: Component[][];
  /** Operator components that cannot run yet, and why. */
  absent: { name: string; reason: string }[];
  env: Record<string, string>;
  /** For a JetStream cluster: waits until it has formed (after the first phase). */
  natsFormed?: (p: { deadline: number; say: (line: string) => void }) => Promise<void>;
}

function plan(opts: { layout: Layout; tools: Tools; token: string; tokenFile: string; rbac: Rbac }): Plan {
  const { layout, tools, rbac } = opts;
  const nats = natsComponents({ layout, tools });
  const members = layout.clusters.filter((c) => c.role === "member");
  const node = nodeBinary(layout.root);
  const absent: Plan["absent"] = [];
  const present = (o: OperatorComponent): Component[] => ("component" in o ? [o.component] : (absent.push(o.absent), []));
  const host = layout.clusters.find((c) => c.role === "host")!;
  const kubeconfig = (cluster: ClusterLayout, component: string) => componentKubeconfig({ layout, rbac, cluster, component });
  const controlPlane = layout.controlPlane ? present(controlPlaneComponent({ layout, node, kubeconfig: kubeconfig(host, CONTROL_PLANE_COMPONENT) })) : [];
  const agentMembers = members.filter((c) => layout.agents.includes(c.name));
  // An agent reads streams the control plane creates: without it, it would never be ready.
  const agents = controlPlane.length
    ? agentMembers.flatMap((cluster) => present(agentComponent({ layout, cluster, node, kubeconfig: kubeconfig(cluster, agentComponentName(cluster.name)) })))
    : (absent.push(...agentMembers.map((c) => ({ name: agentComponentName(c.name), reason: "needs the control plane (it creates the streams agents read), which does not run here" }))), []);
  return {
    infrastructure: [
      [etcdComponent({ layout, binary: tools.etcd }), ...nats.components],
      layout.clusters.map((cluster) => apiserverComponent({ layout, cluster, tools, token: opts.token, tokenFile: opts.tokenFile })),
      [
        ...layout.clusters.map((cluster) => controllerManagerComponent({ layout, cluster, tools })),
        ...members.map((cluster) => schedulerComponent({ layout, cluster, tools })),
        ...members.map((cluster) => kwokComponent({ layout, cluster, tools })),
      ],
    ],
    operator: [controlPlane, agents].filter((p) => p.length > 0),
    absent,
    env: { ...layoutEnv({ layout, kubectl: tools.kubectl }), ...nats.env },
    ...(nats.formed ? { natsFormed: nats.formed } : {}),
  };
}

function ensureAdminToken(layout: Layout): { token: string; tokenFile: string } {
  const tokenFile = path.join(layout.stateDir, "tokens.csv");
  if (!existsSync(tokenFile)) {
    const token = randomBytes(24).toString("hex");
    writeFileSync(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
  }
  const token = readFileSync(tokenFile, "utf8").split(",")[0]!;
  return { token, tokenFile };
}

function layoutOf(opts: { root: string; stateDir: string; state: FederationState }): Layout {
  const { state } = opts;
  return makeLayout({
    root: opts.root, stateDir: opts.stateDir, basePort: state.basePort, members: state.members, nodesPerMember: state.nodesPerMember,
    agents: state.agents ?? [], controlPlane: state.controlPlane ?? true, natsCluster: state.natsCluster ?? 1,
  });
}

/** A recorded federation may gain members at the end (ports of the others do not move), never lose or reorder them. */
function checkShape(prior: FederationState, opts: UpOptions): void {
  const grows = prior.members.every((m, i) => opts.members[i] === m);
  if (!grows || prior.basePort !== opts.basePort) {
    throw new FederationMismatchError(
      `a federation with members ${prior.members.join(",")} on base port ${prior.basePort} is already recorded in ${opts.stateDir}; ` +
        `members ${opts.members.join(",")} on base port ${opts.basePort} need \`hack/federation down\` first`,
    );
  }
  // A server's JetStream store is either standalone or a cluster peer's; one does not become the other.
  const before = prior.natsCluster ?? 1;
  const now = opts.natsCluster ?? 1;
  if (before !== now) {
    throw new FederationMismatchError(`a federation with ${before} nats-server(s) is already recorded in ${opts.stateDir}; --nats-cluster ${now} needs \`hack/federation down\` first`);
  }
}

/**
 * Brings the federation up, or completes one that is partly up: a component whose
 * recorded process still runs is left alone. Resolves once every component is ready,
 * nodes are Ready, default service accounts exist, the CRDs are Established, and the
 * control plane and agents (where their entry files exist) answer /readyz; rejects
 * naming the component and its log otherwise.
 */
export async function up(opts: UpOptions): Promise<Layout> {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const say = (line: string) => opts.progress(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);
  const prior = readState(opts.stateDir);
  if (prior) checkShape(prior, opts);
  const state: FederationState = {
    ...(prior ?? { processes: [] }),
    basePort: opts.basePort,
    members: opts.members,
    nodesPerMember: opts.nodesPerMember,
    agents: opts.agents ?? [],
    controlPlane: opts.controlPlane ?? true,
    rbac: opts.rbac ?? prior?.rbac ?? "charts",
    natsCluster: opts.natsCluster ?? 1,
  };
  const rbac = state.rbac ?? "admin";
  const layout = layoutOf({ root: opts.root, stateDir: opts.stateDir, state });
  mkdirSync(layout.logDir, { recursive: true });
  for (const c of layout.clusters) mkdirSync(c.dir, { recursive: true });
  const tools = toolPaths(opts.root);
  const { token, tokenFile } = ensureAdminToken(layout);
  const p = plan({ layout, tools, token, tokenFile, rbac });
  writeState(layout.stateDir, state);

  // An agent (or control plane) the new shape no longer has must not keep running unrecorded.
  const planned = new Set([...p.infrastructure, ...p.operator].flat().map((c) => c.name));
  for (const proc of state.processes.filter((x) => !planned.has(x.component))) {
    if (isRunning(proc)) say(`stopping ${proc.component}: not part of this federation's shape any more`);
    await stopProcess(proc);
    state.processes = state.processes.filter((x) => x !== proc);
    writeState(layout.stateDir, state);
  }

  for (const [i, phase] of p.infrastructure.entries()) {
    await runPhase({ phase, state, layout, deadline, say });
    if (i === 0) await p.natsFormed?.({ deadline, say });
  }
  for (const cluster of layout.clusters) await waitDefaultServiceAccount({ cluster, deadline, say });
  writeEnvFile({ stateDir: layout.stateDir, vars: p.env });
  prepareClusters({ layout, kubectl: tools.kubectl, timeoutMs: Math.max(5000, deadline - Date.now()), say });
  for (const a of p.absent) say(`skipping ${a.name}: ${a.reason}`);
  if (rbac === "charts" && p.operator.length > 0) {
    say("installing the Helm charts (the control plane and agents run under their ServiceAccounts)");
    await installCharts({ layout, tools, say });
  }
  // A component started under another identity (an earlier --rbac) restarts with the new kubeconfig.
  for (const phase of p.operator) await runPhase({ phase, state, layout, deadline, say, restartOnNewArgs: true });
  const agents = layout.agents.length ? `; agents on ${layout.agents.join(", ")}` : "";
  say(`federation ready: host + ${opts.members.join(", ")} (${layout.clusters.length} API servers, ${state.processes.length} processes${agents})`);
  return layout;
}

/** Starts what of one phase does not run (or runs an outdated configuration), then waits for all of it. */
async function runPhase(opts: { phase: Component[]; state: FederationState; layout: Layout; deadline: number; say: (l: string) => void; restartOnNewArgs?: boolean }): Promise<void> {
  const { state, say } = opts;
  const started: { component: Component; proc: RecordedProcess }[] = [];
  for (const component of opts.phase) {
    const recorded = state.processes.find((p) => p.component === component.name);
    if (recorded && isRunning(recorded)) {
      const newArgs = opts.restartOnNewArgs === true && (recorded.binary !== component.binary || (recorded.args ?? []).join("\0") !== component.args.join("\0"));
      if (!component.outdated?.() && !newArgs) {
        started.push({ component, proc: recorded });
        continue;
      }
      say(`restarting ${component.name}: its configuration changed`);
      await stopProcess(recorded);
    }
    started.push({ component, proc: await launch({ component, state, layout: opts.layout, say }) });
  }
  await Promise.all(started.map(({ component, proc }) => waitReady({ component, proc, deadline: opts.deadline, say })));
}

async function launch(opts: { component: Component; state: FederationState; layout: Layout; say: (l: string) => void; args?: string[] }): Promise<RecordedProcess> {
  const { component, state } = opts;
  for (const port of component.ports) {
    if (await portInUse(port)) {
      throw new ComponentStartError({ component: component.name, log: component.log, reason: `port 127.0.0.1:${port} is already in use by another process (choose another --base-port)` });
    }
  }
  await component.prepare?.();
  opts.say(`starting ${component.name}`);
  const proc = startDetached({ component: component.name, binary: component.binary, args: opts.args ?? component.args, log: component.log, cwd: opts.layout.root });
  state.processes = [...state.processes.filter((p) => p.component !== component.name), proc];
  writeState(opts.layout.stateDir, state);
  component.afterStart?.();
  return proc;
}

async function waitReady(opts: { component: Component; proc: RecordedProcess; deadline: number; say: (l: string) => void }): Promise<void> {
  const { component, proc } = opts;
  const t0 = Date.now();
  try {
    await waitFor(
      async () => {
        if (!isRunning(proc)) throw new ComponentStartError({ component: component.name, log: component.log, reason: "the process exited" });
        return component.ready();
      },
      { what: `${component.name} to be ready`, timeoutMs: Math.max(0, opts.deadline - Date.now()), intervalMs: 250 },
    );
  } catch (err) {
    const cause = (err as Error).cause;
    if (cause instanceof ComponentStartError) throw cause;
    throw new ComponentStartError({ component: component.name, log: component.log, reason: `not ready before the deadline (${(err as Error).message})`, cause: err });
  }
  component.onReady?.();
  opts.say(`${component.name} ready (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

/** Pods can only be created once kube-controller-manager made the namespace's default ServiceAccount. */
async function waitDefaultServiceAccount(opts: { cluster: ClusterLayout; deadline: number; say: (l: string) => void }): Promise<void> {
  const kc = readKubeconfigAuth(opts.cluster.kubeconfig);
  await waitFor(
    async () => (await httpGet({ url: `${kc.server}/api/v1/namespaces/default/serviceaccounts/default`, ca: kc.ca, token: kc.token })).status === 200,
    { what: `the default ServiceAccount on ${opts.cluster.name} (made by kube-controller-manager)`, timeoutMs: Math.max(0, opts.deadline - Date.now()) },
  );
}

/** Stops exactly the processes `up` recorded, in reverse start order, then removes the state. */
export async function down(opts: { stateDir: string; progress: (line: string) => void }): Promise<void> {
  const stateDir = opts.stateDir;
  const state = readState(stateDir);
  if (state) {
    for (const p of [...state.processes].reverse()) {
      if (isRunning(p)) opts.progress(`stopping ${p.component} (pid ${p.pid})`);
      await stopProcess(p);
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
  opts.progress(state ? "federation down" : "no federation recorded; nothing to stop");
}

export interface ComponentStatus {
  component: string;
  pid: number;
  running: boolean;
  healthy: boolean;
  endpoint: string;
  log: string;
  /** Set for a planned component that cannot run yet (its entry file is missing); not counted as unhealthy. */
  absent?: string;
}

interface Loaded {
  state: FederationState;
  layout: Layout;
  plan: Plan;
  components: Component[];
}

function load(opts: { root: string; stateDir: string }): Loaded | undefined {
  const state = readState(opts.stateDir);
  if (!state) return undefined;
  const layout = layoutOf({ root: opts.root, stateDir: opts.stateDir, state });
  const tokenFile = path.join(layout.stateDir, "tokens.csv");
  const token = readFileSync(tokenFile, "utf8").split(",")[0]!;
  const p = plan({ layout, tools: toolPaths(opts.root), token, tokenFile, rbac: state.rbac ?? "admin" });
  return { state, layout, plan: p, components: [...p.infrastructure, ...p.operator].flat() };
}

export async function status(opts: { root: string; stateDir: string }): Promise<ComponentStatus[] | undefined> {
  const loaded = load(opts);
  if (!loaded) return undefined;
  const { state } = loaded;
  const rows = await Promise.all(
    loaded.components.map(async (c): Promise<ComponentStatus> => {
      const p = state.processes.find((x) => x.component === c.name);
      const running = p ? isRunning(p) : false;
      const healthy = running ? await c.ready().catch(() => false) : false;
      return { component: c.name, pid: p?.pid ?? 0, running, healthy, endpoint: c.endpoint, log: c.log };
    }),
  );
  return [...rows, ...loaded.plan.absent.map((a) => ({ component: a.name, pid: 0, running: false, healthy: false, endpoint: "", log: "", absent: a.reason }))];
}

/** `kube-apiserver (fr)` may also be written `kube-apiserver-fr` (no quoting in a shell). */
export function componentAlias(name: string): string {
  return name.replace(/ \((.+)\)$/, "-$1");
}

function findComponent(loaded: Loaded, name: string): Component {
  // `nats` is the single server's short name; a cluster's servers are nats-1, nats-2, ...
  const wanted = name === "nats" && loaded.components.some((x) => x.name === NATS_SINGLE_COMPONENT) ? NATS_SINGLE_COMPONENT : name;
  const c = loaded.components.find((x) => x.name === wanted || componentAlias(x.name) === wanted);
  if (c) return c;
  const why = loaded.plan.absent.find((a) => a.name === name);
  if (why) throw new UnknownComponentError(`component "${name}" cannot run in this federation yet: ${why.reason}`);
  throw new UnknownComponentError(`no component "${name}" in this federation; components: ${loaded.components.map((x) => x.name).join(", ")}`);
}

export interface ComponentOptions {
  root: string;
  stateDir: string;
  /** A name `status` prints: `agent-ionos-fra-1`, `control-plane`, `kube-apiserver (fr)` (or `kube-apiserver-fr`). */
  component: string;
  timeoutMs?: number;
  progress?: (line: string) => void;
  /** For stopComponent: "KILL" sends SIGKILL at once (a crash), default "TERM" (a clean stop). */
  signal?: StopSignal;
  /**
   * For startComponent: start from the planned command line (not the recorded one) with
   * these flags' values replaced, e.g. `{ "--nats-url": "tls://127.0.0.1:4333" }` to put a
   * test's proxy between an agent and nats-server; `{}` starts it as planned again. A flag
   * the command line does not have is an error. The new arguments are recorded, so a
   * later `start` without `flags` runs it the same way.
   */
  flags?: Readonly<Record<string, string>>;
}

/** `args` with the value after each flag of `flags` replaced; a flag `args` lacks is an error. */
export function replaceFlags(args: readonly string[], flags: Readonly<Record<string, string>>): string[] {
  const out = [...args];
  for (const [flag, value] of Object.entries(flags)) {
    const i = out.indexOf(flag);
    if (i < 0 || i + 1 >= out.length) throw new UnknownComponentError(`the command line has no flag ${flag} to replace: ${args.join(" ")}`);
    out[i + 1] = value;
  }
  return out;
}

function loadOrThrow(opts: { root: string; stateDir: string }): Loaded {
  const loaded = load(opts);
  if (!loaded) throw new UnknownComponentError(`no federation is recorded in ${opts.stateDir} (run: hack/federation up)`);
  return loaded;
}

/**
 * Stops exactly the recorded process of one component (SIGTERM, SIGKILL after a grace
 * period; or SIGKILL at once with `signal: "KILL"`) and resolves once it is gone. Its record stays, so `status` shows it DOWN and
 * `startComponent` runs it again with the same arguments. Returns the stopped pid (0 if
 * it was not running).
 */
export async function stopComponent(opts: ComponentOptions): Promise<{ component: string; pid: number }> {
  const loaded = loadOrThrow(opts);
  const component = findComponent(loaded, opts.component);
  const proc = loaded.state.processes.find((p) => p.component === component.name);
  if (!proc || !isRunning(proc)) {
    opts.progress?.(`${component.name} is not running`);
    return { component: component.name, pid: 0 };
  }
  const signal = opts.signal ?? "TERM";
  opts.progress?.(`${signal === "KILL" ? "killing (SIGKILL)" : "stopping"} ${component.name} (pid ${proc.pid})`);
  await stopProcess(proc, { signal });
  opts.progress?.(`${component.name} ${signal === "KILL" ? "killed" : "stopped"}`);
  return { component: component.name, pid: proc.pid };
}

/**
 * Starts one component again with the arguments it was recorded with (or the planned
 * ones if it never ran) and resolves once it is ready. A component that already runs is
 * left alone (and waited for). Returns its pid.
 */
export async function startComponent(opts: ComponentOptions): Promise<{ component: string; pid: number }> {
  const loaded = loadOrThrow(opts);
  const component = findComponent(loaded, opts.component);
  const say = opts.progress ?? (() => undefined);
  const recorded = loaded.state.processes.find((p) => p.component === component.name);
  let proc = recorded;
  if (opts.flags && proc && isRunning(proc)) throw new UnknownComponentError(`${component.name} runs (pid ${proc.pid}): stop it before starting it with other flags`);
  if (!proc || !isRunning(proc)) {
    const args = opts.flags ? replaceFlags(component.args, opts.flags) : recorded && recorded.binary === component.binary ? recorded.args : undefined;
    proc = await launch({ component, state: loaded.state, layout: loaded.layout, say, ...(args ? { args } : {}) });
  }
  await waitReady({ component, proc, deadline: Date.now() + (opts.timeoutMs ?? 120_000), say });
  return { component: component.name, pid: proc.pid };
}
