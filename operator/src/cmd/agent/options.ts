/** The agent's command line, parsed and validated once at start-up (exit 2 on any error). */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { validateClusterName } from "../../federation/index.ts";

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly retryable = false;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Credentials =
  | { kind: "given"; natsCredsFile: string }
  | { kind: "join"; joinAddress: string; grpcCa: string; grpcCert: string; grpcKey: string; bootstrapTokenFile: string };

export interface AgentOptions {
  cluster: string;
  kubeconfig: string;
  natsUrl: string;
  natsCa: string;
  credentials: Credentials;
  metricsListen: { host: string; port: number };
  heartbeatIntervalMs: number;
  logLevel: LogLevel;
}

export const USAGE = `Usage: node operator/src/cmd/agent/main.ts --cluster NAME --kubeconfig FILE --nats-url URL --nats-ca FILE
    (--nats-creds FILE | --join-address HOST:PORT --grpc-ca FILE --grpc-cert FILE --grpc-key FILE --bootstrap-token-file FILE)
    --metrics-listen HOST:PORT [--heartbeat-interval 5s] [--log-level info]

The member agent: applies this member's placement intents as Deployments, reports their
status and heartbeats, and keeps the residency guard's facts. Serves /metrics, /healthz
and /readyz on --metrics-listen.`;

/** "5s", "500ms", "1m", "2h" to milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a duration (e.g. 500ms, 5s, 1m)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  if (ms < 100) throw new UsageError(`${flag}: ${text} is shorter than 100ms`);
  return ms;
}

export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

function readable(file: string, flag: string): string {
  try {
    readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return file;
}

export function parseAgentOptions(args: readonly string[]): AgentOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        cluster: { type: "string" }, kubeconfig: { type: "string" }, "nats-url": { type: "string" }, "nats-ca": { type: "string" },
        "nats-creds": { type: "string" }, "join-address": { type: "string" }, "grpc-ca": { type: "string" }, "grpc-cert": { type: "string" },
        "grpc-key": { type: "string" }, "bootstrap-token-file": { type: "string" }, "metrics-listen": { type: "string" },
        "heartbeat-interval": { type: "string" }, "log-level": { type: "string" }, help: { type: "boolean", short: "h" },
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
  const natsUrl = need("nats-url");
  if (!/^(tls|nats):\/\/[^\s]+:\d+$/.test(natsUrl)) throw new UsageError(`--nats-url: ${JSON.stringify(natsUrl)} is not tls://HOST:PORT`);
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
  return {
    cluster,
    kubeconfig: readable(need("kubeconfig"), "--kubeconfig"),
    natsUrl,
    natsCa: readable(need("nats-ca"), "--nats-ca"),
    credentials,
    metricsListen: parseHostPort(need("metrics-listen"), "--metrics-listen"),
    heartbeatIntervalMs: parseDuration(values["heartbeat-interval"] ?? "5s", "--heartbeat-interval"),
    logLevel,
  };
}
