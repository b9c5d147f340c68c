// Options of the live commands (status, explain, clusters, audit), parsed and checked
// once at the entry: flags first, then the SOVEREIGN_* environment, then defaults.
import { isIP } from "node:net";
import { isDate, isDateTime } from "../../api/index.ts";
import type { CommandSpec } from "./commands.ts";
import { COMMANDS, parseCommand } from "./commands.ts";
import { UsageError } from "./errors.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "./render.ts";

/** The environment as the entry point hands it over; read only here, never deeper. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Where and how to reach the control plane's gRPC endpoint (mutual TLS). */
export interface GrpcConnection {
  address: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The name the server certificate must carry. */
  serverName: string | undefined;
}

/** kubectl's connection flags: which kubeconfig (undefined: $KUBECONFIG, then ~/.kube/config) and context. */
export interface KubeFlags { kubeconfig: string | undefined; context: string | undefined }

/** -n as given; undefined: the context's namespace, else "default" (resolved once the kubeconfig is read). */
export interface StatusOptions { namespace: string | undefined; name: string; output: OutputFormat; kube: KubeFlags }
export interface ClustersOptions { output: OutputFormat; kube: KubeFlags }
/** `grpc` set: the break-glass path straight to the control plane; else through the host's API server. */
export interface ExplainOptions { namespace: string | undefined; name: string; output: OutputFormat; kube: KubeFlags; grpc: GrpcConnection | undefined; now: Date | undefined }
export interface AuditOptions { namespace: string | undefined; name: string; output: OutputFormat; kube: KubeFlags; grpc: GrpcConnection | undefined; since: Date | undefined; limit: number }

const GRPC_ENV = {
  address: ["grpc-address", "SOVEREIGN_GRPC_ADDRESS"],
  caFile: ["grpc-ca", "SOVEREIGN_GRPC_CA"],
  certFile: ["grpc-cert", "SOVEREIGN_GRPC_CERT"],
  keyFile: ["grpc-key", "SOVEREIGN_GRPC_KEY"],
} as const;

type Values = ReturnType<typeof parseCommand>["values"];
const str = (v: Values, name: string): string | undefined => (typeof v[name] === "string" ? (v[name] as string) : undefined);

/** The one WORKLOAD argument, a DNS subdomain as Kubernetes names are. */
function workloadName(spec: CommandSpec, positionals: readonly string[]): string {
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError(`${spec.name} needs the SovereignWorkload's name`);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  checkName("WORKLOAD", name);
  return name;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(what: string, name: string): void {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) throw new UsageError(`${what}: "${name}" is not a valid Kubernetes name (lower case letters, digits, '-' and '.')`);
}

function namespaceOf(v: Values): string | undefined {
  const ns = str(v, "namespace");
  if (ns !== undefined && (ns.length > 63 || !DNS_LABEL.test(ns))) throw new UsageError(`-n/--namespace: "${ns}" is not a valid namespace name (a DNS label)`);
  return ns;
}

export function kubeFlagsOf(v: Values): KubeFlags {
  return { kubeconfig: str(v, "kubeconfig"), context: str(v, "context") };
}

/**
 * The gRPC break-glass connection when any of its flags, or SOVEREIGN_GRPC_ADDRESS, is
 * given; otherwise undefined, and the command goes through the host's API server.
 */
export function breakGlassOf(v: Values, environment: Environment): GrpcConnection | undefined {
  const asked = Object.values(GRPC_ENV).some(([flag]) => str(v, flag) !== undefined) || str(v, "grpc-server-name") !== undefined || Boolean(environment.SOVEREIGN_GRPC_ADDRESS);
  return asked ? grpcConnectionOf(v, environment) : undefined;
}

function outputOf(v: Values): OutputFormat {
  const o = str(v, "output") ?? "table";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(o)) throw new UsageError(`-o/--output: "${o}" is not one of ${OUTPUT_FORMATS.join(", ")}`);
  return o as OutputFormat;
}

function noPositionals(positionals: readonly string[]): void {
  if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
}

/** RFC 3339, or a date read as midnight UTC; undefined when absent. */
export function parseTime(flag: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  if (isDateTime(text)) return new Date(Date.parse(text));
  if (isDate(text)) return new Date(Date.parse(`${text}T00:00:00Z`));
  throw new UsageError(`--${flag}: "${text}" is not an RFC 3339 time (2026-11-28T00:00:00Z) or a date (2026-11-28)`);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** --since: a time, or a duration back from `now` as `kubectl logs --since` takes it. */
export function parseSince(text: string | undefined, now: Date): Date | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (m) return new Date(now.getTime() - Number(m[1]) * UNIT_MS[m[2]!]!);
  try {
    return parseTime("since", text);
  } catch {
    throw new UsageError(`--since: "${text}" is neither a time (2026-11-28T00:00:00Z, 2026-11-28) nor a duration (90s, 30m, 24h, 7d)`);
  }
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new UsageError(`--limit: "${text}" is not a whole number from 1 to 999999999`);
  return Number(text);
}

/**
 * The gRPC connection from flags, else SOVEREIGN_* variables. Every missing piece is
 * named with both its flag and its variable, all at once, so one run tells what to set.
 */
export function grpcConnectionOf(v: Values, environment: Environment): GrpcConnection {
  const missing: string[] = [];
  const pick = (key: keyof typeof GRPC_ENV): string => {
    const [flag, variable] = GRPC_ENV[key];
    const value = str(v, flag) ?? (environment[variable] || undefined);
    if (value === undefined) missing.push(`--${flag} (or ${variable})`);
    return value ?? "";
  };
  const conn = { address: pick("address"), caFile: pick("caFile"), certFile: pick("certFile"), keyFile: pick("keyFile") };
  if (missing.length) throw new UsageError(`the control plane's gRPC endpoint needs ${missing.join(", ")}`);
  const hostPort = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(conn.address);
  if (!hostPort || Number(hostPort[2]) < 1 || Number(hostPort[2]) > 65535) {
    throw new UsageError(`--grpc-address: "${conn.address}" is not HOST:PORT (e.g. 127.0.0.1:20904)`);
  }
  const host = hostPort[1]!.replace(/^\[|\]$/g, "");
  const explicit = str(v, "grpc-server-name") ?? (environment.SOVEREIGN_GRPC_SERVER_NAME || undefined);
  // TLS cannot carry an IP address as the server name (SNI); a local control plane's
  // certificate is issued to "localhost", which is what a loopback address means.
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  return { ...conn, serverName: explicit ?? (loopback ? "localhost" : undefined) };
}

export function parseStatusOptions({ args }: { args: readonly string[] }): StatusOptions | "help" {
  const { values, positionals } = parseCommand(COMMANDS.status, args);
  if (values.help) return "help";
  return { name: workloadName(COMMANDS.status, positionals), namespace: namespaceOf(values), output: outputOf(values), kube: kubeFlagsOf(values) };
}

export function parseClustersOptions({ args }: { args: readonly string[] }): ClustersOptions | "help" {
  const { values, positionals } = parseCommand(COMMANDS.clusters, args);
  if (values.help) return "help";
  noPositionals(positionals);
  return { output: outputOf(values), kube: kubeFlagsOf(values) };
}

export function parseExplainOptions({ args, environment }: { args: readonly string[]; environment: Environment }): ExplainOptions | "help" {
  const { values, positionals } = parseCommand(COMMANDS.explain, args);
  if (values.help) return "help";
  const name = workloadName(COMMANDS.explain, positionals);
  return { name, namespace: namespaceOf(values), output: outputOf(values), now: parseTime("now", str(values, "now")), kube: kubeFlagsOf(values), grpc: breakGlassOf(values, environment) };
}

export function parseAuditOptions({ args, environment, now }: { args: readonly string[]; environment: Environment; now: Date }): AuditOptions | "help" {
  const { values, positionals } = parseCommand(COMMANDS.audit, args);
  if (values.help) return "help";
  const name = workloadName(COMMANDS.audit, positionals);
  return {
    name, namespace: namespaceOf(values), output: outputOf(values),
    since: parseSince(str(values, "since"), now), limit: parseLimit(str(values, "limit")),
    kube: kubeFlagsOf(values), grpc: breakGlassOf(values, environment),
  };
}
