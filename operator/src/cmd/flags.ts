/**
 * What the control plane's and the agent's command lines share: the usage error (exit 2),
 * log levels, and the readers of durations, HOST:PORT and readable files.
 */
import { readFileSync } from "node:fs";

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly retryable = false;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

export function readable(file: string, flag: string): string {
  try {
    readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return file;
}

/** A namespace name as Kubernetes takes it (RFC 1123 label). */
export function validateNamespace(text: string, flag: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a namespace name (RFC 1123 label)`);
  return text;
}

/**
 * The process's own namespace: --namespace, else POD_NAMESPACE (the downward API, set by
 * both charts), else sovereign-system (the local federation runs processes outside pods).
 */
export function namespaceOf(params: { flag: string | undefined; env: Readonly<Record<string, string | undefined>> }): string {
  if (params.flag !== undefined) return validateNamespace(params.flag, "--namespace");
  const fromPod = params.env.POD_NAMESPACE;
  if (fromPod !== undefined && fromPod !== "") return validateNamespace(fromPod, "POD_NAMESPACE");
  return "sovereign-system";
}

/**
 * --nats-url: one server or a comma-separated list of a cluster's servers, each
 * tls://HOST:PORT (or nats://); the client moves to another when its server dies.
 */
export function parseNatsUrls(text: string, flag: string): string[] {
  const urls = text.split(",").map((u) => u.trim());
  for (const u of urls) {
    if (!/^(tls|nats):\/\/[^\s/,]+:\d{1,5}$/.test(u)) throw new UsageError(`${flag}: ${JSON.stringify(u)} is not tls://HOST:PORT (several servers: comma-separated)`);
  }
  if (new Set(urls).size !== urls.length) throw new UsageError(`${flag}: ${JSON.stringify(text)} names a server twice`);
  return urls;
}

/** JetStream's replica counts: 1 (one server) up to 5 (the largest Raft group it places a stream in). */
export const MAX_STREAM_REPLICAS = 5;

/**
 * --nats-stream-replicas, else its env variable, else 1: the replica count of every
 * stream the control plane creates or updates. Named in the error by the flag (and the
 * variable when that is where it came from).
 */
export function parseStreamReplicas(params: { flag: string | undefined; env: Readonly<Record<string, string | undefined>>; flagName: string; envName: string }): number {
  const fromEnv = params.env[params.envName];
  const text = params.flag ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : "1");
  const where = params.flag === undefined && fromEnv ? `${params.flagName} (from ${params.envName})` : params.flagName;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_STREAM_REPLICAS) {
    throw new UsageError(`${where}: ${JSON.stringify(text)} is not a replica count from 1 to ${MAX_STREAM_REPLICAS} (use 3 on a JetStream cluster of three servers, 1 on a single server)`);
  }
  return Number(text);
}
