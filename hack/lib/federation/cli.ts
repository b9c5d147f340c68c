import { parseArgs } from "node:util";
import path from "node:path";
import { defaultBasePort } from "./layout.ts";
import { down, status, up } from "./federation.ts";
import { readState } from "./state.ts";

const USAGE = `usage: hack/federation up|down|status [flags]

  up       start (or complete) the local federation and wait until it is ready
  down     stop exactly the processes up started and remove .federation/
  status   print each component, its pid and health

flags for up:
  --members fr,de      member clusters besides the host (default fr,de; add more: fr,de,it)
  --nodes 3            kwok nodes per member
  --base-port N        first of the 100 loopback ports used (default: derived from the checkout path)
  --timeout 180        seconds to wait for readiness

flags for all:
  --state-dir DIR      where state, logs, kubeconfigs and env live (default .federation)`;

export async function main(argv: string[]): Promise<number> {
  const root = path.resolve(import.meta.dirname, "../../..");
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      members: { type: "string" },
      nodes: { type: "string" },
      "base-port": { type: "string" },
      "state-dir": { type: "string" },
      timeout: { type: "string", default: "180" },
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
  const envBasePort = process.env.FEDERATION_BASE_PORT;
  const progress = (line: string) => console.log(`[federation] ${line}`);
  switch (command) {
    case "up": {
      const prior = readState(stateDir);
      const portFlag = values["base-port"] ?? envBasePort;
      const basePort = portFlag !== undefined ? intFlag("--base-port", portFlag, 1024, 65400) : (prior?.basePort ?? defaultBasePort(root));
      // A recorded federation keeps its shape unless the flags say otherwise.
      const members = values.members !== undefined ? values.members.split(",").map((m) => m.trim()).filter(Boolean) : (prior?.members ?? ["fr", "de"]);
      await up({
        root,
        stateDir,
        basePort,
        members,
        nodesPerMember: values.nodes !== undefined ? intFlag("--nodes", values.nodes, 1, 50) : (prior?.nodesPerMember ?? 3),
        timeoutMs: intFlag("--timeout", values.timeout, 5, 3600) * 1000,
        progress,
      });
      progress(`environment: . ${path.relative(process.cwd(), path.join(stateDir, "env"))}`);
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
        const health = r.healthy ? "healthy" : r.running ? "UNHEALTHY" : "DOWN";
        console.log(`${r.component.padEnd(w)}  ${health.padEnd(9)}  pid ${String(r.pid).padEnd(7)}  ${r.endpoint}${r.healthy ? "" : `  (log: ${r.log})`}`);
      }
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
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
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
