import { parseArgs } from "node:util";
import { isDate, isDateTime } from "../../api/formats.ts";
import type { Clock } from "../../runtime/index.ts";
import { UsageError } from "./errors.ts";

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
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        filename: { type: "string", short: "f", multiple: true },
        now: { type: "string" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const files = v.filename ?? [];
  if (files.length === 0) throw new UsageError("-f/--filename is required");
  const output = v.output ?? OutputFormat.json;
  if (output !== OutputFormat.json && output !== OutputFormat.table) throw new UsageError(`-o/--output: "${output}" is not json or table`);
  let now = clock.now().getTime();
  if (v.now !== undefined) {
    if (isDateTime(v.now)) now = Date.parse(v.now);
    else if (isDate(v.now)) now = Date.parse(`${v.now}T00:00:00Z`);
    else throw new UsageError(`--now: "${v.now}" is not an RFC 3339 time (2026-11-28T00:00:00Z) or a date (2026-11-28)`);
  }
  return { files, now, output };
}
