// `kubectl sovereign audit export|verify|keys`: the signed audit ledger for auditors.
// export streams it from the control plane into a JSON Lines file, through the host's API
// server with the caller's kubeconfig (the aggregated API's ledgers/NAME/export, which RBAC
// authorizes), or break-glass over gRPC (AuditService.Export); verify checks such a file
// offline, with nothing but this plugin; keys lists the control plane's signing keys as
// the chains declare them.
import { createWriteStream } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { once } from "node:events";
import type { ExportRequest, ExportResponse } from "../../gen/sovereign/v1/audit.ts";
import { KeyFormatError, keyIdOf, parseLine, RecordType, splitLines, verifyLedger } from "../../ledger/index.ts";
import type { KeyBody, LedgerRecord, VerifyReport } from "../../ledger/index.ts";
import type { CommandSpec } from "./commands.ts";
import { GRPC_FLAGS, HELP_FLAG, KUBE_FLAGS, parseCommand, usageOf } from "./commands.ts";
import { controlPlaneError } from "./control-plane.ts";
import { ExitStatus, UsageError } from "./errors.ts";
import { breakGlassOf, kubeFlagsOf, parseSince, parseTime, type Environment, type GrpcConnection, type KubeFlags } from "./live-options.ts";
import { OUTPUT_FORMATS, renderDocument, renderTable, type OutputFormat } from "./render.ts";

export const AUDIT_LEDGER_COMMANDS = ["export", "verify", "keys"] as const;
export type AuditLedgerCommand = (typeof AUDIT_LEDGER_COMMANDS)[number];

const TIME = (name: string, what: string) => ({ name, value: "TIME", description: what, complete: "none" as const });
const COUNTRY = { name: "country", value: "CC", description: "only this country's chain (ISO 3166-1 alpha-2; default: every chain)", complete: "none" as const };

export const AUDIT_LEDGER_SPECS: Record<AuditLedgerCommand, CommandSpec> = {
  export: {
    name: "audit export",
    summary: "the signed audit ledger as JSON Lines, with everything needed to verify it offline",
    args: "",
    flags: [
      COUNTRY,
      TIME("since", "records from this time (RFC 3339, YYYY-MM-DD) or this long ago (90s, 30m, 24h, 7d); the chain's key records always come along"),
      TIME("until", "records up to this time (RFC 3339 or YYYY-MM-DD)"),
      { name: "output", short: "o", value: "FILE", description: "write to FILE (default: standard output)", complete: "file" },
      ...KUBE_FLAGS, ...GRPC_FLAGS, HELP_FLAG,
    ],
    notes: "One record per line, exactly as the control plane stored and signed it, chain by chain,\nthen one head per chain signed at export time (it shows a record dropped from either end).\nCheck it with 'kubectl sovereign audit verify FILE'.\n\nThrough the host's API server with your kubeconfig: RBAC \"get\" on \"ledgers/export\" in API\ngroup query.sovereignty.eu (the chart's sovereign-auditor role), for the ledger \"all\" or,\nwith --country, that country's. Streamed: FILE is written as the records arrive, and only\nappears once the export is whole.\n\nExit status: 0 ok, 1 failure (control plane unreachable, refused), 2 usage error.",
  },
  verify: {
    name: "audit verify",
    summary: "check an exported ledger offline: chains, hashes, signatures, keys, attestations, placements",
    args: "FILE",
    flags: [
      { name: "trust", value: "KEYID", multiple: true, description: "a signing key id obtained out of band (kubectl sovereign audit keys); chains anchored on any other key are findings (repeatable)", complete: "none" },
      { name: "federation", value: "ID", description: "the federation the export must be of (default: the one most records name)", complete: "none" },
      { name: "attestation-period", value: "DURATION", description: "how often agents attest each workload at least (their --attestation-interval; default 5m)", complete: "none" },
      { name: "attestation-slack", value: "DURATION", description: "how much later than the period an attestation may come before the silence is shown as a gap (default 1m)", complete: "none" },
      { name: "output", short: "o", value: "FORMAT", description: "text or json (default text)", complete: ["text", "json"] },
      HELP_FLAG,
    ],
    notes: "Needs no cluster and no control plane. Checks every chain's continuity against its signed\nhead, every hash and signature, each key's validity at each record's time and rotations\nsigned by the key they replace, member attestations against the member's key (a replayed\none is a finding; a workload's attestations farther apart than the period plus the slack\nare shown as gaps, information rather than findings), and re-checks every placement against the residency facts and\nrequirements it records, with the scheduler's own rules.\n\nExit status: 0 nothing found, 1 findings (each with its line, record id and what is wrong),\n2 bad input (unreadable file, not a ledger export).",
  },
  keys: {
    name: "audit keys",
    summary: "the control plane's signing keys and their validity, as the chains declare them",
    args: "",
    flags: [COUNTRY, { name: "output", short: "o", value: "FORMAT", description: `${OUTPUT_FORMATS.join(", ")} (default table)`, complete: OUTPUT_FORMATS }, ...KUBE_FLAGS, ...GRPC_FLAGS, HELP_FLAG],
    notes: "A key is valid from its key record until the next one of its chain replaces it. Compare the\nfirst (anchor) key's id with one obtained out of band, then verify with --trust KEYID.\n\nExit status: 0 ok, 1 failure, 2 usage error.",
  },
};

export function auditLedgerUsage(command: AuditLedgerCommand): string {
  return usageOf(AUDIT_LEDGER_SPECS[command]);
}

/** Files, injected so tests run the commands in-process. */
export interface LedgerFiles {
  readBytes(path: string): Promise<Uint8Array>;
  writeText(path: string, text: string): Promise<void>;
  /** Writes `lines` as they come (each followed by a newline); `path` appears only once they all came. */
  writeLines?(path: string, lines: AsyncIterable<string>): Promise<void>;
}
export const nodeLedgerFiles: LedgerFiles = {
  readBytes: (path) => readFile(path),
  writeText: (path, text) => writeFile(path, text),
  async writeLines(path, lines) {
    // A partial export must never sit where a whole one is expected.
    const partial = `${path}.partial`;
    const out = createWriteStream(partial);
    try {
      for await (const line of lines) {
        if (!out.write(`${line}\n`)) await once(out, "drain");
      }
      out.end();
      await once(out, "finish");
      await rename(partial, path);
    } catch (err) {
      out.destroy();
      await rm(partial, { force: true });
      throw err;
    }
  },
};

/** How the ledger is reached: the host's API server with a kubeconfig, or break-glass gRPC. */
export type LedgerRoute = { kube: KubeFlags; grpc?: undefined } | { grpc: GrpcConnection; kube?: undefined };

/** The gRPC route when any --grpc-* flag or SOVEREIGN_GRPC_ADDRESS is given, else the kubeconfig's host. */
export function ledgerRouteOf(values: Values, environment: Environment): LedgerRoute {
  const grpc = breakGlassOf(values, environment);
  return grpc ? { grpc } : { kube: kubeFlagsOf(values) };
}

/** The control plane call these commands need (FederationGrpcClient has it). */
export interface LedgerClient {
  exportLedger(req: ExportRequest): AsyncIterable<ExportResponse>;
  close(): void;
}

export interface AuditLedgerEnvironment {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  environment: Environment;
  now: Date;
  files?: LedgerFiles;
  /** Opens the ledger's client: the host's aggregated API with a kubeconfig, or the control plane's gRPC (mutual TLS). */
  connect: (route: LedgerRoute) => Promise<LedgerClient>;
}

type Values = ReturnType<typeof parseCommand>["values"];
const str = (v: Values, name: string): string | undefined => (typeof v[name] === "string" ? (v[name] as string) : undefined);

function countryOf(v: Values): string {
  const c = str(v, "country") ?? "";
  if (c && !/^[A-Z]{2}$/.test(c)) throw new UsageError(`--country: "${c}" is not an ISO 3166-1 alpha-2 code in capitals (FR, DE)`);
  return c;
}

export async function* exported(env: AuditLedgerEnvironment, route: LedgerRoute, req: ExportRequest): AsyncGenerator<string> {
  const client = await env.connect(route);
  try {
    for await (const r of client.exportLedger(req)) yield r.line;
  } catch (err) {
    // The host's answers are already in words (query-client.ts); gRPC's are put in them here.
    throw route.grpc ? controlPlaneError(err, route.grpc, "Audit.Export") : err;
  } finally {
    client.close();
  }
}

async function runExport(args: readonly string[], env: AuditLedgerEnvironment): Promise<ExitStatus> {
  const { values, positionals } = parseCommand(AUDIT_LEDGER_SPECS.export, args);
  if (values.help) return help(env, "export");
  if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
  const since = parseSince(str(values, "since"), env.now);
  const until = parseTime("until", str(values, "until"));
  if (since && until && since > until) throw new UsageError("--since is after --until");
  const route = ledgerRouteOf(values, env.environment);
  const file = str(values, "output");
  const chains = new Set<string>();
  let records = 0;
  const lines = (async function* () {
    for await (const line of exported(env, route, { country: countryOf(values), range: since || until ? { since, until } : undefined, keysOnly: false })) {
      const chain = /"chain":"([A-Z]{2})"/.exec(line)?.[1];
      if (chain) chains.add(chain);
      if (!line.includes('"type":"head"')) records++;
      yield line;
    }
  })();
  if (file) {
    const files = env.files ?? nodeLedgerFiles;
    if (files.writeLines) await files.writeLines(file, lines);
    else {
      const all: string[] = [];
      for await (const line of lines) all.push(line);
      await files.writeText(file, all.length ? `${all.join("\n")}\n` : "");
    }
    env.stderr(`exported ${records} records of ${chains.size} chain${chains.size === 1 ? "" : "s"} (${[...chains].sort().join(", ") || "none"}) to ${file}\n`);
  } else {
    for await (const line of lines) env.stdout(`${line}\n`);
  }
  return ExitStatus.Ok;
}

function summaryText(file: string, report: VerifyReport): string {
  const c = report.checked;
  const out = [
    `Verified ${file} offline: ${c.records} records in ${c.chains.length} chain${c.chains.length === 1 ? "" : "s"}, ${c.heads} head${c.heads === 1 ? "" : "s"}, ${c.signatures} signatures, ${c.attestations} attestations, ${c.placements} placements re-checked.`,
    `  federation   ${c.federation ?? "-"}`,
    ...c.chains.map((ch) => `  chain ${ch.chain}     positions ${ch.first ?? "-"}..${ch.last ?? "-"} (${ch.records} records), ${ch.from ?? "-"} to ${ch.to ?? "-"}`),
    ...c.keys.map((k) => `  key ${k.chain}       ${k.keyId}${k.anchor ? " (anchor)" : ""}, valid ${k.validFrom} to ${k.validUntil ?? "now"}`),
    ...Object.entries(c.attestationsByMember).sort(([a], [b]) => (a < b ? -1 : 1)).map(([m, n]) => `  attested     ${m}: ${n} attestation${n === 1 ? "" : "s"} signed by the member`),
    `  time covered ${c.from ?? "-"} to ${c.to ?? "-"}`,
  ];
  if (report.gaps.length > 0) {
    out.push(`${report.gaps.length} gap${report.gaps.length === 1 ? "" : "s"} in attestations (information, not findings: nobody confirmed what ran there meanwhile):`);
    for (const g of report.gaps) out.push(`  gap ${g.member} ${g.workload.namespace}/${g.workload.name}: ${g.from} to ${g.to} (${g.seconds}s)`);
  }
  if (report.findings.length === 0) out.push("No findings.");
  else {
    out.push(`${report.findings.length} finding${report.findings.length === 1 ? "" : "s"}:`);
    for (const f of report.findings) out.push(`  ${f.line ? `line ${f.line}` : `chain ${f.chain}`}${f.recordId ? `, record ${f.recordId}` : ""}: ${f.problem}`);
  }
  return `${out.join("\n")}\n`;
}

/** 90s, 5m, 1h: a duration of whole seconds, minutes or hours. */
function durationOf(flag: string, text: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration (90s, 5m, 1h)`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"];
}

async function runVerify(args: readonly string[], env: AuditLedgerEnvironment): Promise<ExitStatus> {
  const { values, positionals } = parseCommand(AUDIT_LEDGER_SPECS.verify, args);
  if (values.help) return help(env, "verify");
  const [file, ...rest] = positionals;
  if (file === undefined) throw new UsageError("audit verify needs the exported FILE");
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  const output = str(values, "output") ?? "text";
  if (output !== "text" && output !== "json") throw new UsageError(`-o/--output: "${output}" is not text or json`);
  const trust = (values.trust as string[] | undefined) ?? [];
  for (const k of trust) if (!/^[0-9a-f]{32}$/.test(k)) throw new UsageError(`--trust: "${k}" is not a key id (32 lowercase hex digits, as 'audit keys' prints)`);
  let data: Uint8Array;
  try {
    data = await (env.files ?? nodeLedgerFiles).readBytes(file);
  } catch (err) {
    env.stderr(`error: cannot read ${file}: ${(err as Error).message}\n`);
    return ExitStatus.InvalidInput;
  }
  const readable = splitLines(data).some((line) => {
    try {
      parseLine(line);
      return true;
    } catch {
      return false;
    }
  });
  if (!readable) {
    env.stderr(`error: ${file} holds no ledger record (is it an export of 'kubectl sovereign audit export'?)\n`);
    return ExitStatus.InvalidInput;
  }
  const federation = str(values, "federation");
  const period = str(values, "attestation-period");
  const slack = str(values, "attestation-slack");
  const report = verifyLedger({
    data, trust, ...(federation ? { federation } : {}),
    ...(period !== undefined ? { attestationPeriodMs: durationOf("--attestation-period", period) } : {}),
    ...(slack !== undefined ? { attestationSlackMs: durationOf("--attestation-slack", slack) } : {}),
  });
  env.stdout(output === "json" ? renderDocument({ file, result: report.findings.length ? "findings" : "clean", ...report }, "json") : summaryText(file, report));
  return report.findings.length ? ExitStatus.Failure : ExitStatus.Ok;
}

interface KeyView {
  chain: string;
  keyId: string;
  validFrom: string;
  validUntil: string | null;
  anchor: boolean;
  signedBy: string;
  publicKey: string;
}

async function runKeys(args: readonly string[], env: AuditLedgerEnvironment): Promise<ExitStatus> {
  const { values, positionals } = parseCommand(AUDIT_LEDGER_SPECS.keys, args);
  if (values.help) return help(env, "keys");
  if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
  const output = (str(values, "output") ?? "table") as OutputFormat;
  if (!OUTPUT_FORMATS.includes(output)) throw new UsageError(`-o/--output: "${output}" is not one of ${OUTPUT_FORMATS.join(", ")}`);
  const keys: KeyView[] = [];
  for await (const line of exported(env, ledgerRouteOf(values, env.environment), { country: countryOf(values), range: undefined, keysOnly: true })) {
    let record: LedgerRecord;
    try {
      record = parseLine(Buffer.from(line));
    } catch {
      continue;
    }
    if (record.type !== RecordType.Key) continue;
    const b = record.body as KeyBody;
    const previous = keys.findLast((k) => k.chain === record.chain);
    if (previous && previous.validUntil === null) previous.validUntil = record.time;
    let keyId = b.keyId;
    try {
      if (keyIdOf(b.publicKey) !== b.keyId) keyId = `${b.keyId} (does not match its public key)`;
    } catch (err) {
      if (!(err instanceof KeyFormatError)) throw err;
    }
    keys.push({ chain: record.chain, keyId, validFrom: record.time, validUntil: b.validUntil, anchor: b.previousKey === null, signedBy: record.key, publicKey: b.publicKey });
  }
  if (output === "table") {
    env.stdout(keys.length === 0 ? "No signing keys: the audit ledger is empty.\n" : renderTable(
      ["CHAIN", "KEY ID", "VALID FROM", "VALID UNTIL", "INTRODUCED", "PUBLIC KEY (ED25519)"],
      keys.map((k) => [k.chain, k.keyId, k.validFrom, k.validUntil ?? "(current)", k.anchor ? "anchor (self-signed)" : `rotation, signed by ${k.signedBy}`, k.publicKey]),
    ));
  } else {
    env.stdout(renderDocument({ keys }, output));
  }
  return ExitStatus.Ok;
}

function help(env: AuditLedgerEnvironment, command: AuditLedgerCommand): ExitStatus {
  env.stdout(`${auditLedgerUsage(command)}\n`);
  return ExitStatus.Ok;
}

export function isAuditLedgerCommand(word: string | undefined): word is AuditLedgerCommand {
  return (AUDIT_LEDGER_COMMANDS as readonly string[]).includes(word ?? "");
}

/** Runs `audit export|verify|keys ARGS`; usage errors are thrown (UsageError) for the caller to print. */
export function runAuditLedger(command: AuditLedgerCommand, args: readonly string[], env: AuditLedgerEnvironment): Promise<ExitStatus> {
  switch (command) {
    case "export":
      return runExport(args, env);
    case "verify":
      return runVerify(args, env);
    case "keys":
      return runKeys(args, env);
  }
}
