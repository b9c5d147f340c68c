// `kubectl sovereign token create CLUSTER`: the admin's half of Join. It mints a
// single-use, expiring bootstrap token for an EXISTING MemberCluster on the host and prints
// it for the member agent's installer; the agent presents it to the control plane's Join.
import { createBootstrapToken } from "../../federation/grpc/index.ts";
import { InvalidNameError, validateClusterName } from "../../federation/index.ts";
import { NotFoundError } from "../../kube/index.ts";
import type { HostApi } from "../../kube/index.ts";
import { COMMANDS, parseCommand } from "./commands.ts";
import { InputError } from "../../scheduler/index.ts";
import { UsageError } from "./errors.ts";
import { installNote } from "./helm-command.ts";
import type { Environment } from "./live-options.ts";

export const TOKEN_USAGE = `Usage: kubectl sovereign token create CLUSTER [--ttl 1h] [--kubeconfig FILE] [--context NAME] [--grpc-address HOST:PORT] [--nats-url URL]
    [--control-plane-namespace NS]

Creates a single-use bootstrap token with which the member agent of the MemberCluster
CLUSTER joins the federation (stored as a Secret in the control plane's namespace on the host). The
MemberCluster must exist: its residency facts are the host admin's declaration, and Join
never creates or changes them. Prints the token on standard output, then on standard
error the helm install command for the member agent with the token in it.

      --ttl DURATION           how long the token may be used: 90s, 30m, 24h (1m to 7d; default 1h)
      --kubeconfig FILE        the host cluster's kubeconfig (default: $KUBECONFIG's files merged, then ~/.kube/config)
      --context NAME           the kubeconfig context to use (default: its current-context)
      --grpc-address HOST:PORT the control plane's gRPC endpoint the agent joins through (env SOVEREIGN_GRPC_ADDRESS)
      --nats-url URL           the federation's NATS URL (env SOVEREIGN_NATS_URL)
      --control-plane-namespace NS
                               the control plane's release namespace on the host, where it reads
                               bootstrap tokens (default sovereign-system)

Without an address, the printed command holds a placeholder and says to replace it.`;

export interface TokenOptions {
  cluster: string;
  ttlMs: number;
  kubeconfig: string | undefined;
  context: string | undefined;
  /** For the printed helm command only; undefined leaves a placeholder. */
  grpcAddress: string | undefined;
  natsUrl: string | undefined;
  /** The control plane's release namespace on the host: the token's Secret goes there. */
  controlPlaneNamespace: string;
}

const MINUTE = 60_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE, h: 60 * MINUTE, d: 24 * 60 * MINUTE };

export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!(ms >= MINUTE && ms <= 7 * 24 * 60 * MINUTE)) {
    throw new UsageError(`--ttl: "${text}" is not a duration between 1m and 7d (e.g. 90s, 30m, 24h)`);
  }
  return ms;
}

export function parseTokenOptions({ args, environment = {} }: { args: readonly string[]; environment?: Environment }): TokenOptions | "help" {
  const parsed = parseCommand(COMMANDS.token, args);
  if (parsed.values.help) return "help";
  const [verb, cluster, ...rest] = parsed.positionals;
  if (verb !== "create") throw new UsageError(verb === undefined ? "token needs a verb: create" : `unknown token verb "${verb}"`);
  if (cluster === undefined) throw new UsageError("token create needs the MemberCluster's name");
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  try {
    validateClusterName(cluster);
  } catch (err) {
    if (err instanceof InvalidNameError) throw new UsageError(`CLUSTER: ${err.message}`);
    throw err;
  }
  const flag = (name: string) => (typeof parsed.values[name] === "string" ? (parsed.values[name] as string) : undefined);
  return {
    cluster,
    ttlMs: parseDuration(flag("ttl") ?? "1h"),
    kubeconfig: flag("kubeconfig"),
    context: flag("context"),
    grpcAddress: flag("grpc-address") ?? (environment.SOVEREIGN_GRPC_ADDRESS || undefined),
    natsUrl: flag("nats-url") ?? (environment.SOVEREIGN_NATS_URL || undefined),
    controlPlaneNamespace: controlPlaneNamespace(flag("control-plane-namespace")),
  };
}

function controlPlaneNamespace(text: string | undefined): string {
  if (text === undefined) return "sovereign-system";
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)) throw new UsageError(`--control-plane-namespace: ${JSON.stringify(text)} is not a namespace name (RFC 1123 label)`);
  return text;
}

export async function runTokenCreate(params: { options: TokenOptions; host: HostApi; now: Date; write: (text: string) => void; note: (text: string) => void }): Promise<void> {
  const { options, host } = params;
  if (!(await host.getMemberCluster(options.cluster))) {
    throw new InputError(`MemberCluster "${options.cluster}" does not exist on the host: declare it first (kubectl apply -f a MemberCluster manifest), then create its token`);
  }
  let token: string;
  try {
    token = await createBootstrapToken({ host, cluster: options.cluster, now: params.now, ttlMs: options.ttlMs, namespace: options.controlPlaneNamespace });
  } catch (err) {
    if (err instanceof NotFoundError) {
      const ns = options.controlPlaneNamespace;
      throw new InputError(`namespace ${ns} does not exist on the host: install the control plane first (or kubectl create namespace ${ns}), or give its namespace with --control-plane-namespace`);
    }
    throw err;
  }
  params.write(`${token}\n`);
  params.note(`bootstrap token for MemberCluster ${options.cluster}, single use, valid until ${new Date(params.now.getTime() + options.ttlMs).toISOString()}\n`);
  params.note(installNote({ cluster: options.cluster, grpcAddress: options.grpcAddress, natsUrl: options.natsUrl, token }));
}
