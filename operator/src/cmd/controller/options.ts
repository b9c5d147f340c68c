/** The control plane's command line, parsed and validated once at start-up (exit 2 on any error). */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly retryable = false;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ControllerOptions {
  kubeconfig: string;
  natsUrl: string;
  natsCa: string;
  natsCreds: string;
  grpcListen: string;
  grpcCa: string;
  grpcCert: string;
  grpcKey: string;
  metricsListen: string;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  heartbeatIntervalMs: number;
  heartbeatMisses: number;
  workers: number;
  logLevel: LogLevel;
  /** Member NATS secrets as files <cluster>.seed / <cluster>.creds; default: Secrets on the host. */
  memberNatsSeedsDir?: string;
}

export const USAGE = `Usage: node operator/src/cmd/controller/main.ts --kubeconfig FILE --nats-url tls://HOST:PORT --nats-ca FILE --nats-creds FILE
    --grpc-listen HOST:PORT --grpc-ca FILE --grpc-cert FILE --grpc-key FILE --metrics-listen HOST:PORT
    [--leader-election-namespace sovereign-system] [--leader-election-id sovereign-control-plane]
    [--heartbeat-interval 5s] [--heartbeat-misses 3] [--workers 16] [--log-level info] [--member-nats-seeds-dir DIR]`;

export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a duration (e.g. 500ms, 5s, 1m)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  if (ms < 100) throw new UsageError(`${flag}: ${text} is shorter than 100ms`);
  return ms;
}

function hostPort(text: string, flag: string): string {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not HOST:PORT`);
  return text;
}

function readable(file: string, flag: string): string {
  try {
    readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return file;
}

function positiveInt(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not an integer from 1 to ${max}`);
  return Number(text);
}

export function parseOptions(argv: readonly string[]): ControllerOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: Object.fromEntries([
        "kubeconfig", "nats-url", "nats-ca", "nats-creds", "grpc-listen", "grpc-ca", "grpc-cert", "grpc-key", "metrics-listen",
        "leader-election-namespace", "leader-election-id", "heartbeat-interval", "heartbeat-misses", "workers", "log-level", "member-nats-seeds-dir",
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
  const natsUrl = need("nats-url");
  if (!/^(tls|nats):\/\/[^/]+:\d+$/.test(natsUrl)) throw new UsageError(`--nats-url: ${JSON.stringify(natsUrl)} is not tls://HOST:PORT`);
  const logLevel = (values["log-level"] ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level: ${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(", ")}`);
  const seeds = values["member-nats-seeds-dir"];
  if (seeds !== undefined && !statSync(seeds, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--member-nats-seeds-dir: ${seeds} is not a directory`);
  return {
    kubeconfig: readable(need("kubeconfig"), "--kubeconfig"),
    natsUrl,
    natsCa: readable(need("nats-ca"), "--nats-ca"),
    natsCreds: readable(need("nats-creds"), "--nats-creds"),
    grpcListen: hostPort(need("grpc-listen"), "--grpc-listen"),
    grpcCa: readable(need("grpc-ca"), "--grpc-ca"),
    grpcCert: readable(need("grpc-cert"), "--grpc-cert"),
    grpcKey: readable(need("grpc-key"), "--grpc-key"),
    metricsListen: hostPort(need("metrics-listen"), "--metrics-listen"),
    leaderElectionNamespace: values["leader-election-namespace"] ?? "sovereign-system",
    leaderElectionId: values["leader-election-id"] ?? "sovereign-control-plane",
    heartbeatIntervalMs: parseDuration(values["heartbeat-interval"] ?? "5s", "--heartbeat-interval"),
    heartbeatMisses: positiveInt(values["heartbeat-misses"] ?? "3", "--heartbeat-misses", 100),
    workers: positiveInt(values.workers ?? "16", "--workers", 64),
    logLevel,
    ...(seeds !== undefined ? { memberNatsSeedsDir: seeds } : {}),
  };
}
