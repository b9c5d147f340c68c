import type { ResidencyReport } from "./model.ts";

/** The report as JSON for machines: the model as it is, times in RFC 3339, durations in milliseconds. */
export function renderJson(report: ResidencyReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
