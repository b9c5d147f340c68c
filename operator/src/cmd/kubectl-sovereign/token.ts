// `kubectl sovereign token create CLUSTER`: the admin's half of Join. It mints a
// single-use, expiring bootstrap token for an EXISTING MemberCluster on the host and prints
// it for the member agent's installer; the agent presents it to the control plane's Join.
import { parseArgs } from "node:util";
import { createBootstrapToken } from "../../federation/grpc/bootstrap-tokens.ts";
import { InvalidNameError, validateClusterName } from "../../federation/index.ts";
import { NotFoundError } from "../../kube/errors.ts";
import type { HostApi } from "../../kube/host.ts";
import { InputError, UsageError } from "./errors.ts";

export const TOKEN_USAGE = `Usage: kubectl sovereign token create CLUSTER [--ttl 1h] [--kubeconfig FILE]

Creates a single-use bootstrap token with which the member agent of the MemberCluster
CLUSTER joins the federation (stored as a Secret in sovereign-system on the host). The
MemberCluster must exist: its residency facts are the host admin's declaration, and Join
never creates or changes them. Prints the token on standard output.

      --ttl DURATION      how long the token may be used: 90s, 30m, 24h (1m to 7d; default 1h)
      --kubeconfig FILE   the host cluster's kubeconfig (default: $KUBECONFIG, then ~/.kube/config)`;

export interface TokenOptions {
  cluster: string;
  ttlMs: number;
  kubeconfig: string | undefined;
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

export function parseTokenOptions({ args }: { args: readonly string[] }): TokenOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ttl: { type: "string" }, kubeconfig: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
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
  return { cluster, ttlMs: parseDuration(parsed.values.ttl ?? "1h"), kubeconfig: parsed.values.kubeconfig };
}

export async function runTokenCreate(params: { options: TokenOptions; host: HostApi; now: Date; write: (text: string) => void; note: (text: string) => void }): Promise<void> {
  const { options, host } = params;
  if (!(await host.getMemberCluster(options.cluster))) {
    throw new InputError(`MemberCluster "${options.cluster}" does not exist on the host: declare it first (kubectl apply -f a MemberCluster manifest), then create its token`);
  }
  let token: string;
  try {
    token = await createBootstrapToken({ host, cluster: options.cluster, now: params.now, ttlMs: options.ttlMs });
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new InputError("namespace sovereign-system does not exist on the host: install the control plane first (or kubectl create namespace sovereign-system)");
    }
    throw err;
  }
  params.write(`${token}\n`);
  params.note(`bootstrap token for MemberCluster ${options.cluster}, single use, valid until ${new Date(params.now.getTime() + options.ttlMs).toISOString()}\n`);
}
