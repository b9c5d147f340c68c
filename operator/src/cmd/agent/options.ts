/** The agent's command line, parsed and validated once at start-up (exit 2 on any error). */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseGuardManifests } from "../../agent/index.ts";
import type { AdmissionObject } from "../../kube/index.ts";
import { validateClusterName } from "../../federation/index.ts";
import { LOG_LEVELS, namespaceOf, parseDuration, parseHostPort, parseNatsUrls, readable, UsageError } from "../flags.ts";
import type { LogLevel } from "../flags.ts";

export { LOG_LEVELS, parseDuration, parseHostPort, UsageError };
export type { LogLevel };


export type Credentials =
  | { kind: "given"; natsCredsFile: string }
  | { kind: "join"; joinAddress: string; grpcCa: string; grpcCert: string; grpcKey: string; bootstrapTokenFile: string };

export interface AgentOptions {
  cluster: string;
  /** Where the agent keeps its Join credentials and the guard's parameter: --namespace, else the pod's (downward API). */
  namespace: string;
  kubeconfig: string;
  /** --nats-url: every server of the NATS deployment (one, or a cluster's, comma-separated). */
  natsServers: string[];
  natsCa: string;
  credentials: Credentials;
  metricsListen: { host: string; port: number };
  heartbeatIntervalMs: number;
  /** Each workload is attested at least this often (and at every change). */
  attestationIntervalMs: number;
  logLevel: LogLevel;
  /** --guard-manifests: the residency guard's policies and bindings the agent keeps as shipped. */
  guardObjects?: AdmissionObject[];
}

export const USAGE = `Usage: node operator/src/cmd/agent/main.ts --cluster NAME --kubeconfig FILE --nats-url URL[,URL...] --nats-ca FILE
    (--nats-creds FILE | --join-address HOST:PORT --grpc-ca FILE --grpc-cert FILE --grpc-key FILE --bootstrap-token-file FILE)
    --metrics-listen HOST:PORT [--namespace NS (default: $POD_NAMESPACE, else sovereign-system)] [--heartbeat-interval 5s] [--attestation-interval 5m] [--log-level info]
    [--guard-manifests FILE (the residency guard's policies and bindings, restored when edited or deleted)]

The member agent: applies this member's placement intents as Deployments, reports their
status and heartbeats, keeps the residency guard's facts, and attests what runs here,
signed with its NATS nkey, at every change and at least every --attestation-interval. Serves /metrics, /healthz
and /readyz on --metrics-listen.`;




export function parseAgentOptions(args: readonly string[], { env = {} }: { env?: Readonly<Record<string, string | undefined>> } = {}): AgentOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        cluster: { type: "string" }, namespace: { type: "string" }, kubeconfig: { type: "string" }, "nats-url": { type: "string" }, "nats-ca": { type: "string" },
        "nats-creds": { type: "string" }, "join-address": { type: "string" }, "grpc-ca": { type: "string" }, "grpc-cert": { type: "string" },
        "grpc-key": { type: "string" }, "bootstrap-token-file": { type: "string" }, "metrics-listen": { type: "string" },
        "heartbeat-interval": { type: "string" }, "attestation-interval": { type: "string" }, "log-level": { type: "string" }, "guard-manifests": { type: "string" }, help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const need = (flag: keyof typeof values): string => {
    const v = values[flag];
    if (typeof v !== "string" || v === "") throw new UsageError(`--${flag} is required`);
    return v;
  };
  let cluster: string;
  try {
    cluster = validateClusterName(need("cluster"), "--cluster");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const natsServers = parseNatsUrls(need("nats-url"), "--nats-url");
  const joinFlags = ["join-address", "grpc-ca", "grpc-cert", "grpc-key", "bootstrap-token-file"] as const;
  let credentials: Credentials;
  if (values["nats-creds"] !== undefined) {
    const extra = joinFlags.filter((f) => values[f] !== undefined);
    if (extra.length) throw new UsageError(`--nats-creds and --${extra[0]} exclude each other: give NATS credentials, or Join with a bootstrap token`);
    credentials = { kind: "given", natsCredsFile: readable(need("nats-creds"), "--nats-creds") };
  } else if (values["join-address"] !== undefined) {
    parseHostPort(need("join-address"), "--join-address");
    credentials = {
      kind: "join", joinAddress: need("join-address"),
      grpcCa: readable(need("grpc-ca"), "--grpc-ca"), grpcCert: readable(need("grpc-cert"), "--grpc-cert"), grpcKey: readable(need("grpc-key"), "--grpc-key"),
      bootstrapTokenFile: need("bootstrap-token-file"),
    };
  } else {
    throw new UsageError("either --nats-creds or --join-address (with --grpc-ca, --grpc-cert, --grpc-key, --bootstrap-token-file) is required");
  }
  const logLevel = (values["log-level"] ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level: ${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(", ")}`);
  const namespace = namespaceOf({ flag: values.namespace, env });
  let guardObjects: AdmissionObject[] | undefined;
  if (values["guard-manifests"] !== undefined) {
    const file = readable(need("guard-manifests"), "--guard-manifests");
    try {
      guardObjects = parseGuardManifests({ text: readFileSync(file, "utf8"), namespace });
    } catch (err) {
      throw new UsageError(`--guard-manifests ${file}: ${(err as Error).message}`);
    }
  }
  return {
    cluster,
    namespace,
    kubeconfig: readable(need("kubeconfig"), "--kubeconfig"),
    natsServers,
    natsCa: readable(need("nats-ca"), "--nats-ca"),
    credentials,
    metricsListen: parseHostPort(need("metrics-listen"), "--metrics-listen"),
    heartbeatIntervalMs: parseDuration(values["heartbeat-interval"] ?? "5s", "--heartbeat-interval"),
    attestationIntervalMs: parseDuration(values["attestation-interval"] ?? "5m", "--attestation-interval"),
    logLevel,
    ...(guardObjects ? { guardObjects } : {}),
  };
}
