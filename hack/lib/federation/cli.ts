import { parseArgs } from "node:util";
import path from "node:path";
import { DEFAULT_MEMBERS, defaultAgents } from "./shape.ts";
import { resolveUpOptions } from "./local.ts";
import type { StopSignal } from "./process.ts";
import { componentAlias, down, startComponent, status, stopComponent, UnknownComponentError, up } from "./federation.ts";

const USAGE = `usage: hack/federation up|down|status|stop|start [flags]

  up                 start (or complete) the local federation and wait until it is ready
  down               stop exactly the processes up started and remove .federation/
  status             print each component, its pid and health
  stop COMPONENT     stop one recorded component (SIGTERM) and wait until it is gone;
                     --signal KILL sends SIGKILL at once instead (a crash, for recovery tests)
  start COMPONENT    start it again with the same arguments and wait until it is ready
                     (components: control-plane, agent-<member>, kube-apiserver-<cluster>, nats
                     or nats-<i> on a cluster, ...; see status)

flags for up (without them, a recorded federation keeps its shape):
  --members LIST     member clusters besides the host (default ${DEFAULT_MEMBERS.join(",")});
                     DNS-1123 labels of at most 15 characters
  --agents LIST      members that run an agent (default: those named like an example
                     MemberCluster, e.g. ovh-par-1); "none" for none
  --control-plane on|off   run the control plane (default on)
  --rbac charts|admin      run the control plane and agents under the Helm charts'
                     ServiceAccounts (default: installs both charts) or the clusters' admin
  --nats-cluster 1|3 nats-servers: 1 (default), or a JetStream cluster of 3 joined by routes
                     (components nats-1, nats-2, nats-3; streams at R3); changing it needs down first
  --nodes 3          kwok nodes per member
  --base-port N      first of the 100 loopback ports used (default: derived from the checkout path)
  --timeout 240      seconds to wait for readiness

flags for all:
  --state-dir DIR    where state, logs, kubeconfigs and env live (default .federation)`;

const list = (v: string) => (v === "none" ? [] : v.split(",").map((m) => m.trim()).filter(Boolean));

export async function main(argv: string[]): Promise<number> {
  const root = path.resolve(import.meta.dirname, "../../..");
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      members: { type: "string" },
      agents: { type: "string" },
      "control-plane": { type: "string" },
      rbac: { type: "string" },
      nodes: { type: "string" },
      "nats-cluster": { type: "string" },
      "base-port": { type: "string" },
      "state-dir": { type: "string" },
      timeout: { type: "string", default: "240" },
      signal: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  // FEDERATION_STATE_DIR and FEDERATION_BASE_PORT let a second federation (a helper's, a
  // benchmark's) run beside the checkout's own, with the test suite pointed at it.
  const stateDir = path.resolve(values["state-dir"] ?? process.env.FEDERATION_STATE_DIR ?? path.join(root, ".federation"));
  const progress = (line: string) => console.log(`[federation] ${line}`);
  const timeoutMs = intFlag("--timeout", values.timeout, 5, 3600) * 1000;
  switch (command) {
    case "up": {
      const cp = values["control-plane"];
      if (cp !== undefined && cp !== "on" && cp !== "off") throw new UsageError(`--control-plane: "${cp}" is neither on nor off`);
      const rbac = values.rbac;
      if (rbac !== undefined && rbac !== "charts" && rbac !== "admin") throw new UsageError(`--rbac: "${rbac}" is neither charts nor admin`);
      const members = values.members !== undefined ? list(values.members) : undefined;
      const opts = resolveUpOptions({
        root,
        stateDir,
        ...(members ? { members } : {}),
        ...(values.agents !== undefined ? { agents: list(values.agents) } : members ? { agents: defaultAgents(members) } : {}),
        ...(cp !== undefined ? { controlPlane: cp === "on" } : {}),
        ...(rbac !== undefined ? { rbac } : {}),
        ...(values.nodes !== undefined ? { nodesPerMember: intFlag("--nodes", values.nodes, 1, 50) } : {}),
        ...(values["nats-cluster"] !== undefined ? { natsCluster: natsClusterFlag(values["nats-cluster"]) } : {}),
        ...(values["base-port"] !== undefined ? { basePort: intFlag("--base-port", values["base-port"], 1024, 65400) } : {}),
        envBasePort: process.env.FEDERATION_BASE_PORT,
        timeoutMs,
        progress,
      });
      await up(opts);
      progress(`environment: . ${path.relative(process.cwd(), path.join(stateDir, "env")) || path.join(stateDir, "env")}`);
      return 0;
    }
    case "down":
      await down({ stateDir, progress });
      return 0;
    case "status": {
      const rows = await status({ root, stateDir });
      if (!rows) {
        console.log(`no federation is recorded in ${stateDir} (run: hack/federation up)`);
        return 3;
      }
      const w = Math.max(...rows.map((r) => r.component.length));
      for (const r of rows) {
        if (r.absent) {
          console.log(`${r.component.padEnd(w)}  ${"absent".padEnd(9)}  ${r.absent}`);
          continue;
        }
        const health = r.healthy ? "healthy" : r.running ? "UNHEALTHY" : "DOWN";
        console.log(`${r.component.padEnd(w)}  ${health.padEnd(9)}  pid ${String(r.pid).padEnd(7)}  ${r.endpoint}${r.healthy ? "" : `  (log: ${r.log})`}`);
      }
      return rows.every((r) => r.healthy || r.absent) ? 0 : 1;
    }
    case "stop":
    case "start": {
      const component = positionals.slice(1).join(" ");
      if (!component) throw new UsageError(`${command}: name a component (see hack/federation status), e.g. ${command} agent-ionos-fra-1 or ${componentAlias("kube-apiserver (fr)")}`);
      const signal = values.signal === undefined ? undefined : stopSignal(values.signal, command);
      const opts = { root, stateDir, component, timeoutMs, progress, ...(signal !== undefined ? { signal } : {}) };
      await (command === "stop" ? stopComponent(opts) : startComponent(opts));
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

function stopSignal(value: string, command: string): StopSignal {
  if (command !== "stop") throw new UsageError("--signal: only applies to stop");
  if (value !== "TERM" && value !== "KILL") throw new UsageError(`--signal: "${value}" is neither TERM nor KILL`);
  return value;
}

function natsClusterFlag(value: string): number {
  if (value !== "1" && value !== "3") throw new UsageError(`--nats-cluster: "${value}" is neither 1 nor 3 (a JetStream cluster needs a quorum: 3 servers)`);
  return Number(value);
}

function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name}: "${value}" is not a whole number between ${min} and ${max}`);
  return n;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[federation] error: ${err.message}`);
    const usage = err instanceof UsageError || err instanceof UnknownComponentError || /^--[a-z-]+: /.test(err.message);
    process.exit(usage ? 2 : 1);
  },
);
