// The plugin's command line as data: every command's flags are declared once here, and
// the parser, the help texts and shell completion are all derived from it, so a flag
// cannot be accepted without being completed, or documented without being accepted.
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";
import { OUTPUT_FORMATS } from "./render.ts";

export interface FlagSpec {
  name: string;
  short?: string;
  /** The value's placeholder in help (e.g. "FILE"); absent for a boolean flag. */
  value?: string;
  multiple?: boolean;
  description: string;
  /** What completes the flag's value: files, nothing (free text) or one of these words. */
  complete?: "file" | "none" | readonly string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments as help shows them, e.g. "WORKLOAD". */
  args: string;
  flags: readonly FlagSpec[];
  /** Words that complete the first positional argument (e.g. `completion bash|zsh`). */
  positionals?: readonly string[];
  /** Said after the flags in help. */
  notes?: string;
}

export const HELP_FLAG: FlagSpec = { name: "help", short: "h", description: "print this help" };
const outputFlag = (values: readonly string[], fallback: string): FlagSpec => ({
  name: "output", short: "o", value: "FORMAT", description: `${values.join(", ")} (default ${fallback})`, complete: values,
});
const NAMESPACE: FlagSpec = { name: "namespace", short: "n", value: "NS", description: "the workload's namespace (default: the context's namespace, else default)", complete: "none" };
const KUBECONFIG: FlagSpec = { name: "kubeconfig", value: "FILE", description: "the host cluster's kubeconfig (default: $KUBECONFIG's files merged, then ~/.kube/config)", complete: "file" };
const CONTEXT: FlagSpec = { name: "context", value: "NAME", description: "the kubeconfig context to use (default: its current-context)", complete: "none" };
/** kubectl's own connection flags, which every live command takes. */
export const KUBE_FLAGS: readonly FlagSpec[] = [KUBECONFIG, CONTEXT];
export const GRPC_FLAGS: readonly FlagSpec[] = [
  { name: "grpc-address", value: "HOST:PORT", description: "break-glass: ask the control plane's gRPC endpoint directly, with the admin certificate, not through the host (env SOVEREIGN_GRPC_ADDRESS)", complete: "none" },
  { name: "grpc-ca", value: "FILE", description: "CA that signed the control plane's certificate, PEM (env SOVEREIGN_GRPC_CA)", complete: "file" },
  { name: "grpc-cert", value: "FILE", description: "the admin client certificate, PEM (env SOVEREIGN_GRPC_CERT)", complete: "file" },
  { name: "grpc-key", value: "FILE", description: "the admin client key, PEM (env SOVEREIGN_GRPC_KEY)", complete: "file" },
  { name: "grpc-server-name", value: "NAME", description: "name to check the server certificate against (env SOVEREIGN_GRPC_SERVER_NAME; default: localhost for a loopback address, else the address's host)", complete: "none" },
];

const LIVE_EXIT = `Exit status: 0 ok, 1 failure (not found, control plane or host unreachable), 2 usage error.`;

export const COMMANDS = {
  status: {
    name: "status",
    summary: "a workload's placements, conditions and rejected clusters (from the host)",
    args: "WORKLOAD",
    flags: [NAMESPACE, outputFlag(OUTPUT_FORMATS, "table"), ...KUBE_FLAGS, HELP_FLAG],
    notes: `Reads the SovereignWorkload's status on the host: where its replicas run (cluster,\ncountry, replicas, ready), its conditions, and each rejected cluster with its reasons.\n\n${LIVE_EXIT}`,
  },
  explain: {
    name: "explain",
    summary: "why each cluster was used or not, from the running control plane",
    args: "WORKLOAD",
    flags: [NAMESPACE, { name: "now", value: "TIME", description: "judge certifications at this instant (RFC 3339 or YYYY-MM-DD); default: now", complete: "none" }, outputFlag(OUTPUT_FORMATS, "table"), ...KUBE_FLAGS, ...GRPC_FLAGS, HELP_FLAG],
    notes: `Asks the control plane to decide the workload as it would now: the placements, each\nrejected cluster with its reasons, each eligible cluster it did not choose and why, and\nthe summary. It goes through the host's API server with your kubeconfig's identity\n(query.sovereignty.eu: RBAC get on sovereignworkloads/explain, e.g. the sovereign-viewer\nrole); --grpc-* ask the control plane's gRPC endpoint directly instead.\n\n${LIVE_EXIT}`,
  },
  clusters: {
    name: "clusters",
    summary: "every MemberCluster: residency facts, certifications with days left, Ready, heartbeat age",
    args: "",
    flags: [outputFlag(OUTPUT_FORMATS, "table"), ...KUBE_FLAGS, HELP_FLAG],
    notes: `Certifications show the days left until validUntil (inclusive) or "expired"; a\ncluster's exposure is "none", the laws it declares, or "undeclared" (never eligible).\n\n${LIVE_EXIT}`,
  },
  audit: {
    name: "audit",
    summary: "every placement change of a workload; export, verify and keys of the signed ledger",
    args: "WORKLOAD | export | verify FILE | keys",
    positionals: ["export", "verify", "keys"],
    flags: [
      NAMESPACE,
      { name: "since", value: "TIME", description: "only records from this time (RFC 3339, YYYY-MM-DD) or this long ago (90s, 30m, 24h, 7d)", complete: "none" },
      { name: "limit", value: "N", description: "at most N records, oldest first (default: all)", complete: "none" },
      outputFlag(OUTPUT_FORMATS, "table"), ...KUBE_FLAGS, ...GRPC_FLAGS, HELP_FLAG,
    ],
    notes: `Reads the workload's records from the control plane's audit stream, oldest first,\nthrough the host's API server with your kubeconfig's identity (query.sovereignty.eu:\nRBAC get on sovereignworkloads/audit, e.g. the sovereign-auditor role); --grpc-* ask\nthe gRPC AuditService directly instead. Records outlive the workload: a deleted\nworkload's trail is still shown.\n\nThe signed ledger: 'audit export' (JSON Lines), 'audit verify FILE' (offline) and\n'audit keys'; each has its own --help.\n\n${LIVE_EXIT}`,
  },
  report: {
    name: "report",
    summary: "a residency report per workload from the signed ledger: where it ran, certifications, moves, attestation gaps",
    args: "WORKLOAD | --all",
    flags: [
      { name: "all", description: "every workload of the trail" },
      { name: "namespace", short: "n", value: "NS", description: "the workload's namespace (default: a workload of that name in any namespace; WORKLOAD may also be NS/NAME)", complete: "none" },
      { name: "since", value: "TIME", description: "from this time (RFC 3339, YYYY-MM-DD) or this long ago (90s, 30m, 24h, 7d); default: the trail's start", complete: "none" },
      { name: "until", value: "TIME", description: "up to this time (RFC 3339 or YYYY-MM-DD); default: the trail's end (its export)", complete: "none" },
      { name: "from", value: "FILE", description: "an exported trail (kubectl sovereign audit export -o FILE): works offline; default: export it through the host's API server (or --grpc-*)", complete: "file" },
      outputFlag(["md", "html", "json"], "md"),
      { name: "attestation-period", value: "DURATION", description: "a member holding replicas and not attesting for longer is a gap (default 5m, the agents' period)", complete: "none" },
      { name: "trust", value: "KEYID", multiple: true, description: "a signing key id obtained out of band, as for 'audit verify' (repeatable)", complete: "none" },
      ...KUBE_FLAGS, ...GRPC_FLAGS, HELP_FLAG,
    ],
    notes: `Verifies the trail first (as 'audit verify' does) and reads it into, per workload: the\ncountries and clusters it ran in with time ranges and replicas, the certifications each\nplacement relied on and whether they were valid then (or lapsed while it ran), every move\nwith its reason and who decided, and how the members' own signed attestations cover the\ntime they held replicas. A trail with findings is still reported, with the findings at\nthe top. -o html is one self-contained page (no script, nothing fetched) with a\ntimeline: countries as lanes, replicas over time, failovers marked.\n\nExit status: 0 reported from a trail without findings, 1 reported but the trail has\nfindings (or the control plane failed, or no such workload), 2 usage error or bad input.`,
  },
  simulate: {
    name: "simulate",
    summary: "where would these workloads' replicas go, and why not elsewhere (offline)",
    args: "",
    flags: [
      { name: "filename", short: "f", value: "FILE", multiple: true, description: "a YAML/JSON file, a directory of them, or - for standard input (repeatable)", complete: "file" },
      { name: "now", value: "TIME", description: "the instant certifications are judged at (RFC 3339 or YYYY-MM-DD); default: now", complete: "none" },
      outputFlag(["json", "table"], "json"),
      HELP_FLAG,
    ],
  },
  token: {
    name: "token",
    summary: "create a member agent's single-use bootstrap token (on the host)",
    args: "create CLUSTER",
    positionals: ["create"],
    flags: [
      { name: "ttl", value: "DURATION", description: "how long the token may be used: 90s, 30m, 24h (1m to 7d; default 1h)", complete: "none" },
      ...KUBE_FLAGS,
      { name: "grpc-address", value: "HOST:PORT", description: "the control plane's gRPC endpoint, for the printed helm command (env SOVEREIGN_GRPC_ADDRESS)", complete: "none" },
      { name: "nats-url", value: "URL", description: "the federation's NATS URL, for the printed helm command (env SOVEREIGN_NATS_URL)", complete: "none" },
      { name: "control-plane-namespace", value: "NS", description: "the control plane's release namespace on the host, where it reads tokens (default sovereign-system)", complete: "none" },
      HELP_FLAG,
    ],
  },
  completion: {
    name: "completion",
    summary: "print a bash or zsh completion script",
    args: "bash|zsh",
    positionals: ["bash", "zsh"],
    flags: [HELP_FLAG],
    notes: `  source <(kubectl sovereign completion bash)     # completes kubectl-sovereign ...
  source <(kubectl sovereign completion zsh)      # the same in zsh

For 'kubectl sovereign <TAB>' (kubectl 1.26 or later), put bin/kubectl_complete-sovereign
on your PATH next to kubectl-sovereign: kubectl asks it, and it answers through the
plugin's '__complete' command, with the same words as these scripts.`,
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

function flagLine(f: FlagSpec): string {
  const names = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`;
  return `  ${names.padEnd(30)} ${f.description}`;
}

/** A command's help, from its spec (simulate and token keep their hand-written texts). */
export function usageOf(spec: CommandSpec): string {
  const synopsis = [`kubectl sovereign ${spec.name}`, spec.args, "[options]"].filter(Boolean).join(" ");
  return [`Usage: ${synopsis}`, "", spec.summary, "", ...spec.flags.map(flagLine), ...(spec.notes ? ["", spec.notes] : [])].join("\n");
}

export const ROOT_USAGE = `Usage: kubectl sovereign COMMAND [options]

Commands:
${COMMAND_NAMES.map((n) => `  ${n.padEnd(11)}${COMMANDS[n].summary}`).join("\n")}

Run 'kubectl sovereign COMMAND --help' for its options.
Exit status: 0 ok, 1 failure, 2 usage error (with the usage on standard error).`;

type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/** Parses `args` against the spec's flags; a wrong command line is a UsageError. */
export function parseCommand(spec: CommandSpec, args: readonly string[]): { values: ParsedValues; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const f of spec.flags) {
    options[f.name] = { type: f.value ? "string" : "boolean", ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  try {
    const parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedValues, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
