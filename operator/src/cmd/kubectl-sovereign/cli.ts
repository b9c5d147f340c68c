import type { HostApi } from "../../kube/index.ts";
import { KubeError } from "../../kube/index.ts";
import type { Clock } from "../../runtime/index.ts";
import type { InputReader } from "../../scheduler/index.ts";
import { InputError } from "../../scheduler/index.ts";
import { runAudit } from "./audit.ts";
import { auditLedgerUsage, isAuditLedgerCommand, runAuditLedger, type AuditLedgerEnvironment, type LedgerFiles } from "./audit-ledger.ts";
import { runClusters } from "./clusters.ts";
import { runReport } from "./report.ts";
import { type CommandName, COMMANDS, isCommandName, parseCommand, ROOT_USAGE, usageOf } from "./commands.ts";
import { complete, formatCompletion, SHELLS } from "./completion.ts";
import { clientParamsOf, type ClientParams, type ControlPlaneClient } from "./control-plane.ts";
import { CommandError, ExitStatus, FailureKind, UsageError } from "./errors.ts";
import { runExplain } from "./explain.ts";
import { type Environment, type GrpcConnection, type KubeFlags, parseAuditOptions, parseClustersOptions, parseExplainOptions, parseStatusOptions } from "./live-options.ts";
import { parseSimulateOptions, SIMULATE_USAGE } from "./options.ts";
import { runSimulate } from "./simulate.ts";
import { runStatus } from "./status.ts";
import { parseTokenOptions, runTokenCreate, TOKEN_USAGE } from "./token.ts";

/** The root help: every command, one line each. */
export const USAGE = ROOT_USAGE;

/** Everything the command touches, injected so that tests can run it in-process. */
export interface CliEnvironment {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  reader: InputReader;
  /** Read only for the default of --now, --since, a token's creation time and ages. */
  clock: Clock;
  /** The process environment (SOVEREIGN_* fallbacks of the flags); read nowhere else. */
  environment: Environment;
  /** The host through the caller's kubeconfig, read by kubectl's rules (--kubeconfig, $KUBECONFIG, --context). */
  kube: (flags: KubeFlags) => KubeSession;
  /** A client of the control plane's gRPC endpoint (the break-glass path of explain and audit). */
  controlPlane: (params: ClientParams) => ControlPlaneClient;
  /** Files of `audit export -o FILE` and `audit verify FILE` (default: the file system). */
  files?: LedgerFiles;
}

/** What one kubeconfig context gives the live commands. */
export interface KubeSession {
  host: HostApi;
  /** explain and audit through the host's aggregated query API, as the caller. */
  query: ControlPlaneClient;
  /** The context's namespace, when it sets one: the default of -n. */
  namespace: string | undefined;
  /** Where the kubeconfig came from, for messages ("kubeconfig FILE", "$KUBECONFIG (a:b)"). */
  origin: string;
}

function usageFor(command: string | undefined, sub?: string): string {
  if (command === "audit" && isAuditLedgerCommand(sub)) return auditLedgerUsage(sub);
  if (command === "simulate") return SIMULATE_USAGE;
  if (command === "token") return TOKEN_USAGE;
  return isCommandName(command) ? usageOf(COMMANDS[command]) : USAGE;
}

/** What the ledger commands (audit export|verify|keys, report) need: files and the control plane's export. */
function ledgerEnvironment(env: CliEnvironment): AuditLedgerEnvironment {
  return {
    stdout: env.stdout, stderr: env.stderr, environment: env.environment, now: env.clock.now(),
    ...(env.files ? { files: env.files } : {}),
    connect: async (route) => {
      if (route.kube) {
        const session = openKube(env, route.kube);
        return { exportLedger: (req) => session.query.exportLedger!(req), close: () => session.query.close() };
      }
      const client = env.controlPlane(await clientParamsOf(route.grpc, env.reader.readFile));
      if (!client.exportLedger) throw new CommandError(FailureKind.Refused, "this client cannot export the audit ledger");
      return { exportLedger: (req) => client.exportLedger!(req), close: () => client.close() };
    },
  };
}

/** The innermost cause's words: "fetch failed" alone does not say the port was closed. */
function rootCause(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && (e as { cause?: unknown })?.cause !== undefined; depth++) e = (e as { cause: unknown }).cause;
  if (e === err || !(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}

/** The message of the Status an API server answered with, when the error carries its JSON body. */
export function statusMessage(text: string): string | undefined {
  const m = /"message":("(?:[^"\\]|\\.)*")/.exec(text);
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!) as string;
  } catch {
    return undefined;
  }
}

/** What went wrong with the host, in words that name the kubeconfig to check. */
function hostError(err: unknown, which: string): unknown {
  if (!(err instanceof KubeError)) return err;
  const cause = rootCause(err);
  const detail = cause && !err.message.includes(cause) ? `${err.message} (${cause})` : err.message;
  if (err.status === 0) return new CommandError(FailureKind.Unreachable, `cannot reach the host API server of ${which}: ${detail}. Check that the host cluster runs and that --kubeconfig/--context name it`, { cause: err });
  // kube-apiserver's 403 names the verb, resource and group that are missing.
  const roles = err.status === 403 ? ". Ask for a binding to one of the control-plane chart's roles (sovereign-viewer, sovereign-auditor, sovereign-admin) that grants it" : "";
  return new CommandError(FailureKind.Refused, `the host API server (${which}) refused: ${statusMessage(err.message) ?? err.message}${roles}`, { retryable: err.retryable, cause: err });
}

function openKube(env: CliEnvironment, flags: KubeFlags): KubeSession {
  try {
    return env.kube(flags);
  } catch (err) {
    throw new CommandError(FailureKind.Refused, `cannot use the kubeconfig ${flags.kubeconfig ?? "($KUBECONFIG, then ~/.kube/config)"}: ${(err as Error).message}`, { cause: err });
  }
}

/** Runs `use` with the host of the kubeconfig, mapping the host's errors to messages naming it. */
async function withHost<T>(env: CliEnvironment, flags: KubeFlags, use: (session: KubeSession) => Promise<T>): Promise<T> {
  const session = openKube(env, flags);
  try {
    return await use(session);
  } catch (err) {
    throw hostError(err, session.origin);
  }
}

async function withControlPlane<T>(env: CliEnvironment, conn: GrpcConnection, use: (client: ControlPlaneClient) => Promise<T>): Promise<T> {
  const client = env.controlPlane(await clientParamsOf(conn, env.reader.readFile));
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** A command's help on stdout, exit status 0. */
function help(env: CliEnvironment, command: CommandName): ExitStatus {
  env.stdout(`${usageFor(command)}\n`);
  return ExitStatus.Ok;
}

async function dispatch(command: string | undefined, args: readonly string[], env: CliEnvironment): Promise<ExitStatus> {
  const write = env.stdout;
  switch (command) {
    case "simulate": {
      const options = parseSimulateOptions({ args, clock: env.clock });
      if (options === "help") return help(env, command);
      await runSimulate({ options, reader: env.reader, write });
      return ExitStatus.Ok;
    }
    case "token": {
      const options = parseTokenOptions({ args, environment: env.environment });
      if (options === "help") return help(env, command);
      await withHost(env, { kubeconfig: options.kubeconfig, context: options.context }, ({ host }) => runTokenCreate({ options, host, now: env.clock.now(), write, note: env.stderr }));
      return ExitStatus.Ok;
    }
    case "status": {
      const options = parseStatusOptions({ args });
      if (options === "help") return help(env, command);
      await withHost(env, options.kube, (k) => runStatus({ options, namespace: options.namespace ?? k.namespace ?? "default", host: k.host, write }));
      return ExitStatus.Ok;
    }
    case "clusters": {
      const options = parseClustersOptions({ args });
      if (options === "help") return help(env, command);
      await withHost(env, options.kube, ({ host }) => runClusters({ options, host, now: env.clock.now(), write }));
      return ExitStatus.Ok;
    }
    case "explain": {
      const options = parseExplainOptions({ args, environment: env.environment });
      if (options === "help") return help(env, command);
      if (options.grpc) {
        await withControlPlane(env, options.grpc, (client) => runExplain({ options, namespace: options.namespace ?? "default", client, write }));
      } else {
        await withHost(env, options.kube, (k) => runExplain({ options, namespace: options.namespace ?? k.namespace ?? "default", client: k.query, write }));
      }
      return ExitStatus.Ok;
    }
    case "audit": {
      if (isAuditLedgerCommand(args[0])) {
        return runAuditLedger(args[0], args.slice(1), ledgerEnvironment(env));
      }
      const options = parseAuditOptions({ args, environment: env.environment, now: env.clock.now() });
      if (options === "help") return help(env, command);
      if (options.grpc) {
        await withControlPlane(env, options.grpc, (client) => runAudit({ options, namespace: options.namespace ?? "default", client, write }));
      } else {
        await withHost(env, options.kube, (k) => runAudit({ options, namespace: options.namespace ?? k.namespace ?? "default", client: k.query, write }));
      }
      return ExitStatus.Ok;
    }
    case "report":
      return runReport(args, ledgerEnvironment(env));
    case "completion": {
      const { values, positionals } = parseCommand(COMMANDS.completion, args);
      if (values.help) return help(env, command);
      const [shell, ...rest] = positionals;
      if (shell === undefined) throw new UsageError("completion needs a shell: bash or zsh");
      if (shell !== "bash" && shell !== "zsh") throw new UsageError(`completion: "${shell}" is not bash or zsh`);
      if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
      write(SHELLS[shell]);
      return ExitStatus.Ok;
    }
    case "__complete":
      write(formatCompletion(complete(args)));
      return ExitStatus.Ok;
    case "help":
    case "-h":
    case "--help": {
      const [topic] = args;
      if (topic !== undefined && !isCommandName(topic)) throw new UsageError(`unknown command "${topic}"`);
      write(`${usageFor(topic)}\n`);
      return ExitStatus.Ok;
    }
    case undefined:
      throw new UsageError("a command is required");
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Runs one command line and returns the exit status; never exits the process itself. */
export async function runCli({ argv, env }: { argv: readonly string[]; env: CliEnvironment }): Promise<ExitStatus> {
  const [command, ...args] = argv;
  try {
    return await dispatch(command, args, env);
  } catch (err) {
    if (err instanceof UsageError) {
      env.stderr(`error: ${err.message}\n\n${usageFor(command === "help" ? undefined : command, args[0])}\n`);
      return ExitStatus.InvalidInput;
    }
    if (err instanceof InputError) {
      env.stderr(`error: ${err.message}\n`);
      return ExitStatus.InvalidInput;
    }
    if (err instanceof CommandError) {
      // kubectl's own words for a missing object, so scripts and people read it alike.
      env.stderr(err.kind === FailureKind.NotFound ? `Error from server (NotFound): ${err.message}\n` : `error: ${err.message}\n`);
      return ExitStatus.Failure;
    }
    env.stderr(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitStatus.Failure;
  }
}
