import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import type { Component } from "./component.ts";
import { etcdComponent } from "./etcd.ts";
import { httpGet, portInUse } from "./http.ts";
import { ADMIN_USER, apiserverComponent, controllerManagerComponent, schedulerComponent } from "./kube.ts";
import { kwokComponent, readKubeconfigAuth } from "./kwok.ts";
import { type ClusterLayout, type Layout, makeLayout } from "./layout.ts";
import { natsComponent } from "./nats.ts";
import { ComponentStartError, type RecordedProcess, isRunning, startDetached, stopProcess } from "./process.ts";
import { type FederationState, readState, writeState } from "./state.ts";
import { type Tools, toolPaths } from "./tools.ts";

export interface UpOptions {
  root: string;
  /** Where state, logs, kubeconfigs and env go; normally <root>/.federation. */
  stateDir: string;
  basePort: number;
  members: string[];
  nodesPerMember: number;
  timeoutMs: number;
  progress: (line: string) => void;
}

/** The wrong flags for a federation that is already running: say so, change nothing. */
export class FederationMismatchError extends Error {
  override readonly name = "FederationMismatchError";
}

/** Everything the federation runs, in start order (each phase waits for the one before). */
function phases(opts: { layout: Layout; tools: Tools; token: string; tokenFile: string }): { phases: Component[][]; env: Record<string, string> } {
  const { layout, tools } = opts;
  const nats = natsComponent({ layout, tools });
  const members = layout.clusters.filter((c) => c.role === "member");
  return {
    phases: [
      [etcdComponent({ layout, binary: tools.etcd }), nats.component],
      layout.clusters.map((cluster) => apiserverComponent({ layout, cluster, tools, token: opts.token, tokenFile: opts.tokenFile })),
      [
        ...layout.clusters.map((cluster) => controllerManagerComponent({ layout, cluster, tools })),
        ...members.map((cluster) => schedulerComponent({ layout, cluster, tools })),
        ...members.map((cluster) => kwokComponent({ layout, cluster, tools })),
      ],
    ],
    env: nats.env,
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

/**
 * Brings the federation up, or completes one that is partly up: a component whose
 * recorded process still runs is left alone. Resolves once every component is ready,
 * nodes are Ready and default service accounts exist; rejects naming the component
 * and its log otherwise.
 */
export async function up(opts: UpOptions): Promise<Layout> {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const say = (line: string) => opts.progress(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);
  const prior = readState(opts.stateDir);
  if (prior && (prior.members.join(",") !== opts.members.join(",") || prior.basePort !== opts.basePort)) {
    throw new FederationMismatchError(
      `a federation with members ${prior.members.join(",")} on base port ${prior.basePort} is already recorded in ${opts.stateDir}; run \`hack/federation down\` first`,
    );
  }
  const layout = makeLayout(opts);
  mkdirSync(layout.logDir, { recursive: true });
  for (const c of layout.clusters) mkdirSync(c.dir, { recursive: true });
  const tools = toolPaths(opts.root);
  const { token, tokenFile } = ensureAdminToken(layout);
  const plan = phases({ layout, tools, token, tokenFile });
  const state: FederationState = prior ?? { basePort: opts.basePort, members: opts.members, nodesPerMember: opts.nodesPerMember, processes: [] };

  for (const phase of plan.phases) {
    const started: { component: Component; proc: RecordedProcess }[] = [];
    for (const component of phase) {
      const recorded = state.processes.find((p) => p.component === component.name);
      if (recorded && isRunning(recorded)) {
        if (!component.outdated?.()) {
          started.push({ component, proc: recorded });
          continue;
        }
        say(`restarting ${component.name}: its configuration changed`);
        await stopProcess(recorded);
      }
      for (const port of component.ports) {
        if (await portInUse(port)) {
          throw new ComponentStartError({ component: component.name, log: component.log, reason: `port 127.0.0.1:${port} is already in use by another process (choose another --base-port)` });
        }
      }
      await component.prepare?.();
      say(`starting ${component.name}`);
      const proc = startDetached({ component: component.name, binary: component.binary, args: component.args, log: component.log });
      state.processes = [...state.processes.filter((p) => p.component !== component.name), proc];
      writeState(layout.stateDir, state);
      started.push({ component, proc });
      component.afterStart?.();
    }
    await Promise.all(started.map(({ component, proc }) => waitReady({ component, proc, deadline, say })));
  }

  for (const cluster of layout.clusters) await waitDefaultServiceAccount({ cluster, deadline, say });
  writeEnv({ layout, tools, extra: plan.env });
  say(`federation ready: host + ${opts.members.join(", ")} (${layout.clusters.length} API servers, ${state.processes.length} processes)`);
  return layout;
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

function writeEnv(opts: { layout: Layout; tools: Tools; extra: Record<string, string> }): void {
  const { layout } = opts;
  const vars: Record<string, string> = {};
  for (const c of layout.clusters) vars[`${c.name.toUpperCase()}_KUBECONFIG`] = c.kubeconfig;
  Object.assign(vars, opts.extra);
  vars.FEDERATION_MEMBERS = layout.clusters.filter((c) => c.role === "member").map((c) => c.name).join(",");
  vars.GRPC_PORT = String(layout.grpcPort);
  vars.KUBECTL = opts.tools.kubectl;
  const text = [
    "# Written by hack/federation up. Source it: `. .federation/env`.",
    ...Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    "",
  ].join("\n");
  writeFileSync(path.join(layout.stateDir, "env"), text);
}

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", `'"'"'`)}'`;
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
}

export async function status(opts: { root: string; stateDir: string }): Promise<ComponentStatus[] | undefined> {
  const state = readState(opts.stateDir);
  if (!state) return undefined;
  const layout = makeLayout({ root: opts.root, stateDir: opts.stateDir, basePort: state.basePort, members: state.members, nodesPerMember: state.nodesPerMember });
  const tools = toolPaths(opts.root);
  const tokenFile = path.join(layout.stateDir, "tokens.csv");
  const token = readFileSync(tokenFile, "utf8").split(",")[0]!;
  const all = phases({ layout, tools, token, tokenFile }).phases.flat();
  return Promise.all(
    all.map(async (c) => {
      const p = state.processes.find((x) => x.component === c.name);
      const running = p ? isRunning(p) : false;
      const healthy = running ? await c.ready().catch(() => false) : false;
      return { component: c.name, pid: p?.pid ?? 0, running, healthy, endpoint: c.endpoint, log: c.log };
    }),
  );
}
