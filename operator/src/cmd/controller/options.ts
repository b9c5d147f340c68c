/** The control plane's command line, parsed and validated once at start-up (exit 2 on any error). */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { publicKeyOfNkey, validateClusterName } from "../../federation/index.ts";
import { LOG_LEVELS, namespaceOf, parseDuration, parseHostPort, parseNatsUrls, parseStreamReplicas, readable, UsageError, validateNamespace } from "../flags.ts";
import type { LogLevel } from "../flags.ts";

export { LOG_LEVELS, parseDuration, UsageError };
export type { LogLevel };

/** HOST:PORT, kept as written. */
function hostPort(text: string, flag: string): string {
  parseHostPort(text, flag);
  return text;
}

/** The environment variable --nats-stream-replicas falls back to. */
export const STREAM_REPLICAS_ENV = "SOVEREIGN_NATS_STREAM_REPLICAS";

export interface ControllerOptions {
  kubeconfig: string;
  /** --nats-url: every server of the NATS deployment (one, or a cluster's). */
  natsServers: string[];
  /** Replicas of every stream the control plane creates or updates (--nats-stream-replicas). */
  natsStreamReplicas: number;
  natsCa: string;
  natsCreds: string;
  grpcListen: string;
  grpcCa: string;
  grpcCert: string;
  grpcKey: string;
  metricsListen: string;
  /**
   * Where the control plane keeps bootstrap tokens, member credentials and (by default) its
   * Lease: its own namespace, from --namespace or the downward API's POD_NAMESPACE.
   */
  namespace: string;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  heartbeatIntervalMs: number;
  heartbeatMisses: number;
  workers: number;
  logLevel: LogLevel;
  /** Member NATS secrets as files <cluster>.seed / <cluster>.creds; default: Secrets on the host. */
  memberNatsSeedsDir?: string;
  /**
   * Each member's public NATS nkey ("U..."), from --member-nats-keys (a JSON object, member
   * to nkey, as the NATS server's config declares them), as raw ed25519 public keys in hex:
   * the keys member attestations are checked against. Members not in it: their key is
   * derived from the credentials the host holds for them (Secret or --member-nats-seeds-dir).
   */
  memberNatsKeys?: Record<string, string>;
  /** The aggregated query API (query.sovereignty.eu); absent: not served. */
  query?: QueryOptions;
}

export interface QueryOptions {
  listen: string;
  cert: string;
  key: string;
  /**
   * The front proxy's CA and allowed names; absent: read from the host's
   * kube-system/extension-apiserver-authentication ConfigMap, as aggregated servers do.
   */
  requestHeader?: { clientCa: string; allowedNames: string[] };
}

export const USAGE = `Usage: node operator/src/cmd/controller/main.ts --kubeconfig FILE --nats-url tls://HOST:PORT[,tls://HOST:PORT...] --nats-ca FILE --nats-creds FILE
    --grpc-listen HOST:PORT --grpc-ca FILE --grpc-cert FILE --grpc-key FILE --metrics-listen HOST:PORT
    [--namespace NS (default: $POD_NAMESPACE, else sovereign-system)] [--leader-election-namespace NS (default: --namespace)] [--leader-election-id sovereign-control-plane]
    [--heartbeat-interval 5s] [--heartbeat-misses 3] [--workers 16] [--log-level info] [--member-nats-seeds-dir DIR] [--member-nats-keys FILE]
    [--nats-stream-replicas 1 (env ${STREAM_REPLICAS_ENV}; 3 on a JetStream cluster of three)]
    [--query-listen HOST:PORT --query-cert FILE --query-key FILE [--requestheader-client-ca FILE] [--requestheader-allowed-names CN,...]]`;




function positiveInt(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not an integer from 1 to ${max}`);
  return Number(text);
}

export function parseOptions(argv: readonly string[], { env = {} }: { env?: Readonly<Record<string, string | undefined>> } = {}): ControllerOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: Object.fromEntries([
        "kubeconfig", "namespace", "nats-url", "nats-ca", "nats-creds", "grpc-listen", "grpc-ca", "grpc-cert", "grpc-key", "metrics-listen",
        "leader-election-namespace", "leader-election-id", "heartbeat-interval", "heartbeat-misses", "workers", "log-level", "member-nats-seeds-dir", "member-nats-keys",
        "nats-stream-replicas", "query-listen", "query-cert", "query-key", "requestheader-client-ca", "requestheader-allowed-names",
      ].map((k) => [k, { type: "string" as const }])),
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const need = (flag: string) => {
    const v = values[flag];
    if (v === undefined || v === "") throw new UsageError(`--${flag} is required`);
    return v;
  };
  const natsServers = parseNatsUrls(need("nats-url"), "--nats-url");
  const natsStreamReplicas = parseStreamReplicas({ flag: values["nats-stream-replicas"], env, flagName: "--nats-stream-replicas", envName: STREAM_REPLICAS_ENV });
  const logLevel = (values["log-level"] ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level: ${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(", ")}`);
  const seeds = values["member-nats-seeds-dir"];
  if (seeds !== undefined && !statSync(seeds, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--member-nats-seeds-dir: ${seeds} is not a directory`);
  const memberNatsKeys = values["member-nats-keys"] === undefined ? undefined : memberKeysFile(values["member-nats-keys"]);
  const query = queryOptions(values);
  const namespace = namespaceOf({ flag: values.namespace, env });
  return {
    kubeconfig: readable(need("kubeconfig"), "--kubeconfig"),
    natsServers,
    natsStreamReplicas,
    natsCa: readable(need("nats-ca"), "--nats-ca"),
    natsCreds: readable(need("nats-creds"), "--nats-creds"),
    grpcListen: hostPort(need("grpc-listen"), "--grpc-listen"),
    grpcCa: readable(need("grpc-ca"), "--grpc-ca"),
    grpcCert: readable(need("grpc-cert"), "--grpc-cert"),
    grpcKey: readable(need("grpc-key"), "--grpc-key"),
    metricsListen: hostPort(need("metrics-listen"), "--metrics-listen"),
    namespace,
    leaderElectionNamespace: values["leader-election-namespace"] === undefined ? namespace : validateNamespace(values["leader-election-namespace"], "--leader-election-namespace"),
    leaderElectionId: values["leader-election-id"] ?? "sovereign-control-plane",
    heartbeatIntervalMs: parseDuration(values["heartbeat-interval"] ?? "5s", "--heartbeat-interval"),
    heartbeatMisses: positiveInt(values["heartbeat-misses"] ?? "3", "--heartbeat-misses", 100),
    workers: positiveInt(values.workers ?? "16", "--workers", 64),
    logLevel,
    ...(seeds !== undefined ? { memberNatsSeedsDir: seeds } : {}),
    ...(memberNatsKeys ? { memberNatsKeys } : {}),
    ...(query ? { query } : {}),
  };
}

/** --member-nats-keys: a JSON object of member name to public user nkey, each checked. */
function memberKeysFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(readable(file, "--member-nats-keys"), "utf8"));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--member-nats-keys: ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`--member-nats-keys: ${file} must hold a JSON object of member name to public nkey`);
  const out: Record<string, string> = {};
  for (const [member, nkey] of Object.entries(parsed)) {
    try {
      validateClusterName(member, "member");
      out[member] = publicKeyOfNkey(String(nkey));
    } catch (err) {
      throw new UsageError(`--member-nats-keys: ${member}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The query API's flags: all of listen, cert and key, or none; the request-header CA only with them. */
function queryOptions(values: Record<string, string | undefined>): QueryOptions | undefined {
  const listen = values["query-listen"];
  const cert = values["query-cert"];
  const key = values["query-key"];
  const ca = values["requestheader-client-ca"];
  const names = values["requestheader-allowed-names"];
  if (listen === undefined && cert === undefined && key === undefined) {
    if (ca !== undefined || names !== undefined) throw new UsageError("--requestheader-client-ca and --requestheader-allowed-names need --query-listen");
    return undefined;
  }
  if (!listen || !cert || !key) throw new UsageError("--query-listen, --query-cert and --query-key go together");
  if (names !== undefined && ca === undefined) throw new UsageError("--requestheader-allowed-names needs --requestheader-client-ca");
  return {
    listen: hostPort(listen, "--query-listen"),
    cert: readable(cert, "--query-cert"),
    key: readable(key, "--query-key"),
    ...(ca !== undefined ? { requestHeader: { clientCa: readable(ca, "--requestheader-client-ca"), allowedNames: (names ?? "").split(",").map((n) => n.trim()).filter(Boolean) } } : {}),
  };
}
