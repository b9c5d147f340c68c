// `kubectl sovereign report (WORKLOAD | --all)`: the residency report an auditor reads,
// from an exported trail (--from FILE, offline) or straight from the control plane's
// ledger export (as 'audit export' gets it: through the host's API server, or --grpc-*). The trail is verified first; the
// report is built by ledger/report (pure) and rendered as Markdown, HTML or JSON.
import { parseLine, splitLines } from "../../ledger/index.ts";
import { renderHtml, renderJson, renderMarkdown, reportOfExport } from "../../ledger/report/index.ts";
import type { ResidencyReport, Selection } from "../../ledger/report/index.ts";
import { exported, ledgerRouteOf, nodeLedgerFiles, type AuditLedgerEnvironment } from "./audit-ledger.ts";
import { COMMANDS, parseCommand, usageOf } from "./commands.ts";
import { ExitStatus, UsageError } from "./errors.ts";
import { parseSince, parseTime } from "./live-options.ts";

export const REPORT_FORMATS = ["md", "html", "json"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  selection: Selection;
  since: Date | undefined;
  until: Date | undefined;
  from: string | undefined;
  output: ReportFormat;
  attestationPeriodMs: number;
  trust: string[];
}

type Values = ReturnType<typeof parseCommand>["values"];
const str = (v: Values, name: string): string | undefined => (typeof v[name] === "string" ? (v[name] as string) : undefined);
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

function periodOf(text: string | undefined): number {
  if (text === undefined) return 5 * 60_000;
  const m = /^([1-9]\d{0,5})(s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`--attestation-period: "${text}" is not a duration (90s, 5m, 1h)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

function selectionOf(values: Values, positionals: readonly string[]): Selection {
  const all = values.all === true;
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(" ")}`);
  const [word] = positionals;
  if (all && word !== undefined) throw new UsageError("give a WORKLOAD or --all, not both");
  if (all) return { all: true };
  if (word === undefined) throw new UsageError("report needs a WORKLOAD (NAME or NAMESPACE/NAME) or --all");
  const [ns, name] = word.includes("/") ? word.split("/", 2) as [string, string] : [undefined, word];
  const namespace = str(values, "namespace") ?? ns;
  if (ns !== undefined && str(values, "namespace") !== undefined && ns !== str(values, "namespace")) throw new UsageError(`WORKLOAD says namespace "${ns}", -n says "${str(values, "namespace")}"`);
  if (!NAME.test(name)) throw new UsageError(`"${name}" is not a workload name`);
  if (namespace !== undefined && !NAME.test(namespace)) throw new UsageError(`"${namespace}" is not a namespace name`);
  return { all: false, name, namespace };
}

export function parseReportOptions({ args, now }: { args: readonly string[]; now: Date }): { options: ReportOptions; values: Values } | "help" {
  const { values, positionals } = parseCommand(COMMANDS.report, args);
  if (values.help) return "help";
  const output = (str(values, "output") ?? "md") as ReportFormat;
  if (!REPORT_FORMATS.includes(output)) throw new UsageError(`-o/--output: "${output}" is not one of ${REPORT_FORMATS.join(", ")}`);
  const since = parseSince(str(values, "since"), now);
  const until = parseTime("until", str(values, "until"));
  if (since && until && since > until) throw new UsageError("--since is after --until");
  const trust = (values.trust as string[] | undefined) ?? [];
  for (const k of trust) if (!/^[0-9a-f]{32}$/.test(k)) throw new UsageError(`--trust: "${k}" is not a key id (32 lowercase hex digits, as 'audit keys' prints)`);
  return {
    values,
    options: { selection: selectionOf(values, positionals), since, until, from: str(values, "from"), output, attestationPeriodMs: periodOf(str(values, "attestation-period")), trust },
  };
}

/** The whole trail from the control plane: a report needs the placements before --since to know what ran at --since. */
async function exportedTrail(env: AuditLedgerEnvironment, values: Values, until: Date | undefined): Promise<Uint8Array> {
  const lines: string[] = [];
  for await (const line of exported(env, ledgerRouteOf(values, env.environment), { country: "", range: until ? { since: undefined, until } : undefined, keysOnly: false })) lines.push(line);
  return Buffer.from(lines.length ? `${lines.join("\n")}\n` : "");
}

export function renderReport(report: ResidencyReport, format: ReportFormat): string {
  switch (format) {
    case "md":
      return renderMarkdown(report);
    case "html":
      return renderHtml(report);
    case "json":
      return renderJson(report);
  }
}

export async function runReport(args: readonly string[], env: AuditLedgerEnvironment): Promise<ExitStatus> {
  const parsed = parseReportOptions({ args, now: env.now });
  if (parsed === "help") {
    env.stdout(`${usageOf(COMMANDS.report)}\n`);
    return ExitStatus.Ok;
  }
  const { options, values } = parsed;
  let data: Uint8Array;
  if (options.from !== undefined) {
    try {
      data = await (env.files ?? nodeLedgerFiles).readBytes(options.from);
    } catch (err) {
      env.stderr(`error: cannot read ${options.from}: ${(err as Error).message}\n`);
      return ExitStatus.InvalidInput;
    }
  } else {
    data = await exportedTrail(env, values, options.until);
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
    env.stderr(`error: ${options.from ?? "the control plane's export"} holds no ledger record${options.from ? " (is it an export of 'kubectl sovereign audit export'?)" : ""}\n`);
    return ExitStatus.InvalidInput;
  }
  const report = reportOfExport({
    data, selection: options.selection, since: options.since, until: options.until, generatedAt: env.now,
    attestationPeriodMs: options.attestationPeriodMs, ...(options.trust.length ? { trust: options.trust } : {}),
  });
  if (!options.selection.all && report.workloads.length === 0) {
    env.stderr(`error: the trail has no record of workload ${report.selection}${options.since || options.until ? " in that window" : ""}\n`);
    return ExitStatus.Failure;
  }
  env.stdout(renderReport(report, options.output));
  if (!report.verification.clean) {
    env.stderr(`warning: the trail has ${report.verification.findings.length} finding${report.verification.findings.length === 1 ? "" : "s"} (listed at the top of the report; 'kubectl sovereign audit verify' names each)\n`);
    return ExitStatus.Failure;
  }
  return ExitStatus.Ok;
}
