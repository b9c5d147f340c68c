// The residency report as Markdown (GitHub's tables). Every string from the trail is data:
// it is escaped, so a cluster named "a|b" or "<script>" stays text in one cell.
import { duration, instant, percent } from "./format.ts";
import type { ResidencyReport, WorkloadReport } from "./model.ts";

/** Escapes what Markdown (and the HTML it may carry) would read as syntax; a line break becomes a space. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/[\\`*_{}[\]<>|~&!#]/g, (c) => `\\${c}`);
}
const e = escapeMarkdown;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

export function renderMarkdown(report: ResidencyReport): string {
  const v = report.verification;
  const out: string[] = [
    `# Residency report: ${report.selection === "all" ? "all workloads" : e(report.selection)}`,
    "",
    `Federation \`${e(report.federation ?? "-")}\`, from ${instant(report.window.from)} to ${instant(report.window.to)} (${duration(Date.parse(report.window.to) - Date.parse(report.window.from))}); generated ${instant(report.generatedAt)}.`,
    "",
  ];
  if (v.clean) {
    out.push(`> **Verified: no findings.** ${v.records} records in ${v.chains.length} chain${v.chains.length === 1 ? "" : "s"} (${v.chains.map(e).join(", ") || "none"}), ${v.signatures} signatures, ${v.attestations} member attestations and ${v.placements} placements re-checked offline.`);
  } else {
    out.push(`> **Warning: the trail did not verify (${v.findings.length} finding${v.findings.length === 1 ? "" : "s"}).** What follows is read from records that may have been altered, dropped or made up; each finding names its line.`, ">");
    for (const f of v.findings) out.push(`> - ${f.line ? `line ${f.line}` : `chain ${e(f.chain)}`}${f.recordId ? `, record \`${e(f.recordId)}\`` : ""}: ${e(f.problem)}`);
  }
  out.push("");
  if (report.truncated.length) {
    out.push(`> **Partial trail:** ${report.truncated.map((t) => `chain ${e(t.chain)} starts at ${instant(t.from)}`).join(", ")} (exported with --since): where workloads ran before that is not in it.`, "");
  }
  if (report.workloads.length === 0) out.push("No workload of this selection has a record in the window.", "");
  for (const w of report.workloads) out.push(...workload(w));
  return `${out.join("\n").trimEnd()}\n`;
}

function workload(w: WorkloadReport): string[] {
  const ref = w.workload;
  const out = [`## ${e(ref.namespace)}/${e(ref.name)}`, "", `uid \`${e(ref.uid)}\``, "", "### Where it ran", ""];
  if (w.stays.length === 0) out.push("No replicas in the window.", "");
  else {
    out.push(w.countries.map((c) => `**${e(c.country)}** ${duration(c.heldMs)} (${c.clusters.map((k) => e(k.cluster)).join(", ")})`).join(" · "), "");
    const facts = new Map(w.countries.flatMap((c) => c.clusters.map((k) => [k.cluster, k] as const)));
    out.push(...table(["Country", "Cluster", "Provider", "Region", "From", "To", "Replicas"], w.stays.map((s) => [
      e(s.country), e(s.cluster), e(facts.get(s.cluster)?.provider || "-"), e(facts.get(s.cluster)?.region || "-"),
      instant(s.from), s.open ? `${instant(s.to)} (still running)` : instant(s.to), String(s.replicas),
    ])), "");
  }
  out.push("### Moves", "");
  if (w.moves.length === 0) out.push("No placement change in the window.", "");
  else {
    out.push(...table(["Time", "Action", "Cluster", "Country", "Replicas", "From cluster", "Why", "Decided by", "Record"], w.moves.map((m) => [
      instant(m.time), `${m.failover ? "**failover** " : ""}${e(m.action)}`, e(m.cluster), e(m.country), `${m.replicasBefore} → ${m.replicasAfter}`,
      e(m.fromCluster || "-"), e(m.reasons.join(", ") || "-"), e(m.decidedBy), `line ${m.line}${m.findings.length ? ` (**${m.findings.length} finding${m.findings.length === 1 ? "" : "s"}**)` : ""}`,
    ])), "");
  }
  out.push("### Certifications relied on", "");
  if (w.certifications.length === 0) out.push("No certification recorded with the placements in the window.", "");
  else {
    out.push(...table(["Cluster", "Certification", "Version", "Valid until", "Required", "Relied on", "Valid at decision", "Lapsed while running"], w.certifications.map((c) => [
      e(c.cluster), e(c.name), e(c.version || "-"), e(c.validUntil), c.required ? "yes" : "no (declared)",
      `${instant(c.from)} to ${instant(c.to)}`, c.validAtDecision ? "yes" : "**no**", c.lapsedAt ? `**${instant(c.lapsedAt)}**` : "no",
    ])), "");
  }
  const a = w.attestation;
  out.push("### Member attestations", "");
  if (a.total === 0) {
    out.push(`No member attestation in the window: where the replicas ran rests on the control plane's records alone (${duration(a.heldMs)} unconfirmed).`, "");
  } else {
    out.push(`Members attest at every change and at least every ${duration(a.periodMs)}; ${percent(a.coveredMs, a.heldMs)} of the ${duration(a.heldMs)} with replicas is covered, ${a.gaps.length} gap${a.gaps.length === 1 ? "" : "s"}.`, "");
    out.push(...table(["Member", "Attestations", "First", "Last", "Held", "Covered", "Pods ≠ replicas"], a.members.map((m) => [
      e(m.cluster), String(m.attestations), m.first ? instant(m.first) : "-", m.last ? instant(m.last) : "-", duration(m.heldMs), percent(m.coveredMs, m.heldMs), String(m.podsDiffer),
    ])), "");
  }
  if (a.gaps.length) {
    out.push(`Gaps (longer than ${duration(a.periodMs)} with replicas and no attestation):`, "");
    for (const g of a.gaps) out.push(`- ${e(g.cluster)}: ${instant(g.from)} to ${instant(g.to)} (${duration(g.durationMs)})`);
    out.push("");
  }
  return out;
}
