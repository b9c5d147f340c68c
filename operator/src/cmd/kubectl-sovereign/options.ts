import type { Clock } from "../../runtime/index.ts";
import { COMMANDS, parseCommand } from "./commands.ts";
import { UsageError } from "./errors.ts";
import { parseTime } from "./live-options.ts";

export const OutputFormat = { json: "json", table: "table" } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

export interface SimulateOptions {
  /** Files or directories; "-" is standard input. */
  files: string[];
  /** Epoch milliseconds. */
  now: number;
  output: OutputFormat;
}

export const SIMULATE_USAGE = `Usage: kubectl sovereign simulate -f FILE [-f FILE...] [--now 2026-11-28T00:00:00Z] [-o json|table]

Reads MemberClusters (with status), ResidencyPolicies and SovereignWorkloads from
multi-document YAML and prints where each workload's replicas would go, and why not
elsewhere. Changes nothing anywhere. Namespaces (v1) in the input are ignored, so a
directory made for \`kubectl apply -f\` can be simulated as it is.

  -f, --filename FILE   a YAML/JSON file, a directory of them, or - for standard input (repeatable)
      --now TIME        the instant certifications are judged at (RFC 3339 or YYYY-MM-DD); default: now
  -o, --output FORMAT   json (default) or table

Exit status: 0 when every workload got a decision (scheduled or not), 2 on invalid input.`;

/** Parses `simulate`'s arguments once, at the entry point. `clock` gives the default for --now. */
export function parseSimulateOptions({ args, clock }: { args: readonly string[]; clock: Pick<Clock, "now"> }): SimulateOptions | "help" {
  const { values: v, positionals } = parseCommand(COMMANDS.simulate, args);
  if (v.help) return "help";
  if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")} (files are given with -f)`);
  const files = (v.filename as string[] | undefined) ?? [];
  if (files.length === 0) throw new UsageError("-f/--filename is required");
  const output = (v.output as string | undefined) ?? OutputFormat.json;
  if (output !== OutputFormat.json && output !== OutputFormat.table) throw new UsageError(`-o/--output: "${output}" is not json or table`);
  let now = clock.now().getTime();
  const at = parseTime("now", v.now as string | undefined);
  if (at) now = at.getTime();
  return { files, now, output };
}
