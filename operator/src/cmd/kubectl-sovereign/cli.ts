import { ExitStatus, InputError, UsageError } from "./errors.ts";
import type { InputReader } from "../../scheduler/inputs.ts";
import { parseSimulateOptions, SIMULATE_USAGE } from "./options.ts";
import { runSimulate } from "./simulate.ts";
import type { HostApi } from "../../kube/host.ts";
import type { Clock } from "../../runtime/index.ts";
import { parseTokenOptions, runTokenCreate, TOKEN_USAGE } from "./token.ts";

export const USAGE = `Usage: kubectl sovereign COMMAND [options]

Commands:
  simulate   where would these workloads' replicas go, and why not elsewhere (offline)
  token      create a member agent's single-use bootstrap token (on the host)

Run 'kubectl sovereign COMMAND --help' for its options.`;

/** Everything the command touches, injected so that tests can run it in-process. */
export interface CliEnvironment {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  reader: InputReader;
  /** Read only for the default of --now and a token's creation time. */
  clock: Clock;
  /** The host's API, for a kubeconfig file given by --kubeconfig (or the default one). */
  hostApi: (kubeconfig: string | undefined) => HostApi;
}

/** Runs one command line and returns the exit status; never exits the process itself. */
export async function runCli({ argv, env }: { argv: readonly string[]; env: CliEnvironment }): Promise<ExitStatus> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "simulate": {
        const options = parseSimulateOptions({ args, clock: env.clock });
        if (options === "help") {
          env.stdout(`${SIMULATE_USAGE}\n`);
          return ExitStatus.Ok;
        }
        await runSimulate({ options, reader: env.reader, write: env.stdout });
        return ExitStatus.Ok;
      }
      case "token": {
        const options = parseTokenOptions({ args });
        if (options === "help") {
          env.stdout(`${TOKEN_USAGE}\n`);
          return ExitStatus.Ok;
        }
        await runTokenCreate({ options, host: env.hostApi(options.kubeconfig), now: env.clock.now(), write: env.stdout, note: env.stderr });
        return ExitStatus.Ok;
      }
      case undefined:
      case "help":
      case "-h":
      case "--help":
        env.stdout(`${USAGE}\n`);
        return command === undefined ? ExitStatus.InvalidInput : ExitStatus.Ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      env.stderr(`error: ${err.message}\n\n${command === "simulate" ? SIMULATE_USAGE : command === "token" ? TOKEN_USAGE : USAGE}\n`);
      return ExitStatus.InvalidInput;
    }
    if (err instanceof InputError) {
      env.stderr(`error: ${err.message}\n`);
      return ExitStatus.InvalidInput;
    }
    env.stderr(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitStatus.Failure;
  }
}
