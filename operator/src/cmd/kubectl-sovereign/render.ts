// Output as kubectl prints it: aligned columns for people, JSON or YAML for scripts.
import { stringify } from "yaml";

/** The -o values of the live commands (simulate keeps its own: json|table). */
export const OutputFormat = { table: "table", json: "json", yaml: "yaml" } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];
export const OUTPUT_FORMATS: readonly OutputFormat[] = Object.values(OutputFormat);

/**
 * kubectl's column layout: a header in capitals, each column as wide as its widest
 * cell plus two spaces, the last column unpadded so lines carry no trailing blanks.
 * An empty cell shows as "-" so that a column never reads as shifted.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => header.map((_, c) => (r[c] === undefined || r[c] === "" ? "-" : r[c]!)));
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join("").trimEnd();
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

/** A machine-readable document: the same object as JSON (2-space indent) or YAML. */
export function renderDocument(value: unknown, format: "json" | "yaml"): string {
  if (format === "json") return `${JSON.stringify(value, null, 2)}\n`;
  // Plain YAML 1.2 without anchors, so `yq`/`kubectl`-style readers see the same data.
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/**
 * An age as kubectl prints it (`5s`, `3m12s`, `5h3m`, `2d5h`): two units at most, so a
 * column of ages stays narrow and still tells minutes from hours at a glance.
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}
