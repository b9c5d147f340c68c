/**
 * The residency report as one self-contained HTML page: inline CSS and SVG, no script, no
 * font, no image or anything else fetched (its Content-Security-Policy forbids it, so an
 * auditor can open it offline and it cannot call out). Every string from the trail is
 * data and is escaped.
 *
 * The timeline is read at a glance: one lane per country, one row per cluster inside it,
 * a bar per stay whose height is its replica count, a red line at each failover, ticks
 * for the members' attestations and an amber band where they are missing.
 */
import { duration, instant, percent } from "./format.ts";
import type { Move, ResidencyReport, WorkloadReport } from "./model.ts";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const e = escapeHtml;

/** Lane colours, one per country of the report in alphabetical order; the failover red and the gap amber are kept apart from them. */
export const LANE_COLOURS = ["#2563eb", "#059669", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f"] as const;
export const FAILOVER_COLOUR = "#dc2626";
export const GAP_COLOUR = "#f59e0b";
const TICK_COLOUR = "#334155";

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 4px;border-top:1px solid #cbd5e1;padding-top:16px}h3{font-size:15px;margin:20px 0 6px}
.meta{color:#475569;margin:0 0 12px}.uid{color:#64748b;font-family:ui-monospace,monospace;font-size:12px}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0}.ok{background:#ecfdf5;border:1px solid #10b981}.bad{background:#fef2f2;border:2px solid #dc2626}
.bad ul{margin:6px 0 0;padding-left:20px}.part{background:#fffbeb;border:1px solid #f59e0b}
table{border-collapse:collapse;margin:4px 0 8px;font-size:13px}th,td{border:1px solid #e2e8f0;padding:3px 8px;text-align:left;vertical-align:top;white-space:nowrap}th{background:#f1f5f9}
.chips span{display:inline-block;margin:0 8px 4px 0;padding:2px 8px;border-radius:10px;color:#fff;font-weight:600}
.warn{color:#b91c1c;font-weight:600}.fo{color:#dc2626;font-weight:700}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
`;

export function renderHtml(report: ResidencyReport): string {
  const v = report.verification;
  const title = report.selection === "all" ? "all workloads" : report.selection;
  const banner = v.clean
    ? `<div class="banner ok"><strong>Verified: no findings.</strong> ${v.records} records in ${v.chains.length} chain${v.chains.length === 1 ? "" : "s"} (${e(v.chains.join(", ") || "none")}), ${v.signatures} signatures, ${v.attestations} member attestations and ${v.placements} placements re-checked offline.</div>`
    : `<div class="banner bad"><strong>Warning: the trail did not verify (${v.findings.length} finding${v.findings.length === 1 ? "" : "s"}).</strong> What follows is read from records that may have been altered, dropped or made up.<ul>${
      v.findings.map((f) => `<li>${f.line ? `line ${f.line}` : `chain ${e(f.chain)}`}${f.recordId ? `, record <code>${e(f.recordId)}</code>` : ""}: ${e(f.problem)}</li>`).join("")}</ul></div>`;
  const partial = report.truncated.length
    ? `<div class="banner part"><strong>Partial trail:</strong> ${report.truncated.map((t) => `chain ${e(t.chain)} starts at ${e(instant(t.from))}`).join(", ")} (exported with --since): where workloads ran before that is not in it.</div>`
    : "";
  const colours = coloursOf(report);
  const body = report.workloads.length === 0
    ? "<p>No workload of this selection has a record in the window.</p>"
    : report.workloads.map((w) => workload(w, report, colours)).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Residency report: ${e(title)}</title>
<style>${CSS}</style></head>
<body>
<h1>Residency report: ${e(title)}</h1>
<p class="meta">Federation <code>${e(report.federation ?? "-")}</code>, from ${e(instant(report.window.from))} to ${e(instant(report.window.to))} (${duration(Date.parse(report.window.to) - Date.parse(report.window.from))}); generated ${e(instant(report.generatedAt))}.</p>
${banner}
${partial}
${body}
</body></html>
`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

/** One colour per country across the whole report, so a country looks the same in every timeline. */
function coloursOf(report: ResidencyReport): Map<string, string> {
  const countries = [...new Set(report.workloads.flatMap((w) => w.countries.map((c) => c.country)))].sort();
  return new Map(countries.map((c, i) => [c, LANE_COLOURS[i % LANE_COLOURS.length]!]));
}

function workload(w: WorkloadReport, report: ResidencyReport, colour: ReadonlyMap<string, string>): string {
  const ref = w.workload;
  const parts = [`<section><h2>${e(ref.namespace)}/${e(ref.name)}</h2><div class="uid">uid ${e(ref.uid)}</div>`];
  if (w.stays.length === 0) parts.push("<p>No replicas in the window.</p>");
  else {
    parts.push(`<p class="chips">${w.countries.map((c) => `<span style="background:${colour.get(c.country)}">${e(c.country)} ${duration(c.heldMs)}</span>`).join("")}</p>`);
    parts.push(timeline(w, report, colour));
  }
  const facts = new Map(w.countries.flatMap((c) => c.clusters.map((k) => [k.cluster, k] as const)));
  parts.push("<h3>Where it ran</h3>", w.stays.length === 0 ? "<p>No replicas in the window.</p>" : table(
    ["Country", "Cluster", "Provider", "Region", "From", "To", "Replicas"],
    w.stays.map((s) => [e(s.country), e(s.cluster), e(facts.get(s.cluster)?.provider || "-"), e(facts.get(s.cluster)?.region || "-"), e(instant(s.from)), `${e(instant(s.to))}${s.open ? " (still running)" : ""}`, String(s.replicas)]),
  ));
  parts.push("<h3>Moves</h3>", w.moves.length === 0 ? "<p>No placement change in the window.</p>" : table(
    ["Time", "Action", "Cluster", "Country", "Replicas", "From cluster", "Why", "Decided by", "Record"],
    w.moves.map((m) => [
      e(instant(m.time)), `${m.failover ? '<span class="fo">failover</span> ' : ""}${e(m.action)}`, e(m.cluster), e(m.country), `${m.replicasBefore} → ${m.replicasAfter}`,
      e(m.fromCluster || "-"), e(m.reasons.join(", ") || "-"), e(m.decidedBy),
      `line ${m.line}${m.findings.length ? ` <span class="warn">${m.findings.map(e).join("; ")}</span>` : ""}`,
    ]),
  ));
  parts.push("<h3>Certifications relied on</h3>", w.certifications.length === 0 ? "<p>No certification recorded with the placements in the window.</p>" : table(
    ["Cluster", "Certification", "Version", "Valid until", "Required", "Relied on", "Valid at decision", "Lapsed while running"],
    w.certifications.map((c) => [
      e(c.cluster), e(c.name), e(c.version || "-"), e(c.validUntil), c.required ? "yes" : "no (declared)", `${e(instant(c.from))} to ${e(instant(c.to))}`,
      c.validAtDecision ? "yes" : '<span class="warn">no</span>', c.lapsedAt ? `<span class="warn">${e(instant(c.lapsedAt))}</span>` : "no",
    ]),
  ));
  const a = w.attestation;
  parts.push("<h3>Member attestations</h3>");
  if (a.total === 0) parts.push(`<p>No member attestation in the window: where the replicas ran rests on the control plane's records alone (${duration(a.heldMs)} unconfirmed).</p>`);
  else {
    parts.push(`<p>Members attest at every change and at least every ${duration(a.periodMs)}; ${percent(a.coveredMs, a.heldMs)} of the ${duration(a.heldMs)} with replicas is covered, ${a.gaps.length} gap${a.gaps.length === 1 ? "" : "s"}.</p>`);
    parts.push(table(["Member", "Attestations", "First", "Last", "Held", "Covered", "Pods ≠ replicas"], a.members.map((m) => [
      e(m.cluster), String(m.attestations), m.first ? e(instant(m.first)) : "-", m.last ? e(instant(m.last)) : "-", duration(m.heldMs), percent(m.coveredMs, m.heldMs), String(m.podsDiffer),
    ])));
  }
  if (a.gaps.length) parts.push(`<p>Gaps (longer than ${duration(a.periodMs)} with replicas and no attestation):</p><ul>${a.gaps.map((g) => `<li>${e(g.cluster)}: ${e(instant(g.from))} to ${e(instant(g.to))} (${duration(g.durationMs)})</li>`).join("")}</ul>`);
  parts.push("</section>");
  return parts.join("\n");
}

const WIDTH = 1040;
const LABEL = 190;
const RIGHT = 24;
const ROW = 36;
const TOP = 34;
const LANE_PAD = 6;

const TICK_STEPS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400, 30 * 86_400].map((s) => s * 1000);

/** The time axis's ticks: round instants, at most about eight. */
export function ticksOf(from: number, to: number): number[] {
  const span = Math.max(1, to - from);
  const step = TICK_STEPS.find((s) => span / s <= 8) ?? TICK_STEPS.at(-1)!;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

function tickLabel(t: number, span: number): string {
  const s = new Date(t).toISOString();
  if (span <= 86_400_000) return span < 600_000 ? s.slice(11, 19) : s.slice(11, 16);
  return `${s.slice(5, 10)} ${s.slice(11, 16)}`;
}

/** Decisions that failed over, one marker per instant: where replicas went from where. */
function failovers(moves: readonly Move[]): { at: number; label: string }[] {
  const by = new Map<number, Move[]>();
  for (const m of moves.filter((x) => x.failover)) by.set(Date.parse(m.time), [...(by.get(Date.parse(m.time)) ?? []), m]);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([at, ms]) => {
    const from = [...new Set(ms.map((m) => m.fromCluster || (m.replicasAfter < m.replicasBefore ? m.cluster : "")).filter(Boolean))];
    const to = [...new Set(ms.filter((m) => m.replicasAfter > m.replicasBefore).map((m) => m.cluster))];
    return { at, label: `failover ${from.join(", ") || "?"} → ${to.join(", ") || "?"}` };
  });
}

function timeline(w: WorkloadReport, report: ResidencyReport, colour: ReadonlyMap<string, string>): string {
  const from = Date.parse(report.window.from);
  const to = Date.parse(report.window.to);
  const span = Math.max(1, to - from);
  const plot = WIDTH - LABEL - RIGHT;
  const x = (iso: string | number) => LABEL + ((typeof iso === "number" ? iso : Date.parse(iso)) - from) / span * plot;
  const maxReplicas = Math.max(1, ...w.stays.map((s) => s.replicas));
  const out: string[] = [];
  const rowsY = new Map<string, number>();
  let y = TOP;
  w.countries.forEach((c, lane) => {
    const h = c.clusters.length * ROW + LANE_PAD * 2;
    out.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${h}" fill="${lane % 2 ? "#ffffff" : "#f1f5f9"}"/>`);
    out.push(`<text x="10" y="${y + LANE_PAD + ROW / 2 + 6}" font-size="17" font-weight="700" fill="${colour.get(c.country)}">${e(c.country)}</text>`);
    c.clusters.forEach((k, i) => {
      const rowY = y + LANE_PAD + i * ROW;
      rowsY.set(k.cluster, rowY);
      out.push(`<text x="52" y="${rowY + ROW / 2 + 4}" font-size="12" fill="#1e293b">${e(k.cluster.length > 20 ? `${k.cluster.slice(0, 19)}…` : k.cluster)}<title>${e(k.cluster)} (${e(k.provider || "-")}, ${e(k.region || "-")})</title></text>`);
    });
    y += h;
  });
  const bottom = y;
  // The grid under the bars and marks, so it never cuts through them.
  for (const t of ticksOf(from, to)) out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${TOP}" y2="${bottom + 4}" stroke="#94a3b8" stroke-width="0.5" stroke-dasharray="2 3"/>`);
  // Bars: height grows with replicas, bottom-aligned a little above the row's end, leaving room for attestation ticks.
  for (const s of w.stays) {
    const rowY = rowsY.get(s.cluster)!;
    const h = 6 + Math.round((ROW - 16) * s.replicas / maxReplicas);
    const x0 = x(s.from);
    const width = Math.max(2, x(s.to) - x0);
    const base = rowY + ROW - 8;
    out.push(`<rect x="${x0.toFixed(1)}" y="${base - h}" width="${width.toFixed(1)}" height="${h}" fill="${colour.get(s.country)}" shape-rendering="crispEdges"><title>${e(s.cluster)} (${e(s.country)}): ${s.replicas} replica${s.replicas === 1 ? "" : "s"}, ${e(instant(s.from))} to ${e(instant(s.to))}${s.open ? ", still running" : ""}</title></rect>`);
    if (width > 22 && h >= 14) out.push(`<text x="${(x0 + 4).toFixed(1)}" y="${base - h / 2 + 4}" font-size="11" font-weight="700" fill="#ffffff">${s.replicas}</text>`);
  }
  for (const g of w.attestation.gaps) {
    const rowY = rowsY.get(g.cluster);
    if (rowY === undefined) continue;
    out.push(`<rect x="${x(g.from).toFixed(1)}" y="${rowY + ROW - 6}" width="${Math.max(2, x(g.to) - x(g.from)).toFixed(1)}" height="4" fill="${GAP_COLOUR}" shape-rendering="crispEdges"><title>no attestation from ${e(g.cluster)}, ${e(instant(g.from))} to ${e(instant(g.to))} (${duration(g.durationMs)})</title></rect>`);
  }
  for (const m of w.attestation.members) {
    const rowY = rowsY.get(m.cluster);
    if (rowY === undefined) continue;
    out.push(`<g stroke="${TICK_COLOUR}" stroke-width="1">`);
    for (const at of m.observedAt) out.push(`<line x1="${x(at).toFixed(1)}" x2="${x(at).toFixed(1)}" y1="${rowY + ROW - 7}" y2="${rowY + ROW - 1}"/>`);
    out.push("</g>");
  }
  // Moves other than failovers: a small grey mark on the top edge.
  for (const m of w.moves.filter((mv) => !mv.failover)) out.push(`<path d="M${x(m.time).toFixed(1)} ${TOP - 2} l-4 -7 h8 z" fill="#64748b"><title>${e(instant(m.time))} ${e(m.action)} ${e(m.cluster)} ${m.replicasBefore} → ${m.replicasAfter}${m.reasons.length ? ` (${e(m.reasons.join(", "))})` : ""}, decided by ${e(m.decidedBy)}</title></path>`);
  for (const f of failovers(w.moves)) {
    const fx = Math.round(x(f.at));
    const anchor = fx > LABEL + plot * 0.6 ? "end" : "start";
    out.push(`<rect x="${fx - 1}" y="${TOP - 12}" width="2" height="${bottom - TOP + 12}" fill="${FAILOVER_COLOUR}" shape-rendering="crispEdges"><title>${e(instant(new Date(f.at).toISOString()))} ${e(f.label)}</title></rect>`);
    out.push(`<text x="${anchor === "end" ? fx - 5 : fx + 5}" y="${TOP - 16}" font-size="12" font-weight="700" fill="${FAILOVER_COLOUR}" text-anchor="${anchor}">⚡ ${e(f.label)}</text>`);
  }
  // The axis below the lanes.
  out.push(`<line x1="${LABEL}" x2="${LABEL + plot}" y1="${bottom}" y2="${bottom}" stroke="#475569"/>`);
  for (const t of ticksOf(from, to)) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 17}" font-size="11" fill="#475569" text-anchor="middle">${tickLabel(t, span)}</text>`);
  }
  out.push(`<text x="${LABEL}" y="${bottom + 34}" font-size="11" fill="#475569">${e(instant(report.window.from))}</text>`);
  out.push(`<text x="${LABEL + plot}" y="${bottom + 34}" font-size="11" fill="#475569" text-anchor="end">${e(instant(report.window.to))} (UTC)</text>`);
  const legendY = bottom + 54;
  out.push(
    `<rect x="${LABEL}" y="${legendY - 9}" width="18" height="10" fill="#64748b"/><text x="${LABEL + 24}" y="${legendY}" font-size="11" fill="#334155">replicas (bar height: 1 to ${maxReplicas})</text>`,
    `<rect x="${LABEL + 210}" y="${legendY - 10}" width="2" height="12" fill="${FAILOVER_COLOUR}"/><text x="${LABEL + 218}" y="${legendY}" font-size="11" fill="#334155">failover</text>`,
    `<line x1="${LABEL + 290}" x2="${LABEL + 290}" y1="${legendY - 9}" y2="${legendY + 1}" stroke="${TICK_COLOUR}"/><text x="${LABEL + 296}" y="${legendY}" font-size="11" fill="#334155">member attestation</text>`,
    `<rect x="${LABEL + 420}" y="${legendY - 6}" width="18" height="4" fill="${GAP_COLOUR}"/><text x="${LABEL + 444}" y="${legendY}" font-size="11" fill="#334155">no attestation for longer than ${duration(w.attestation.periodMs)}</text>`,
    `<path d="M${LABEL + 680} ${legendY} l-4 -7 h8 z" fill="#64748b"/><text x="${LABEL + 690}" y="${legendY}" font-size="11" fill="#334155">other placement change</text>`,
  );
  const height = legendY + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="timeline of ${e(w.workload.namespace)}/${e(w.workload.name)}: countries as lanes, replicas over time">${out.join("")}</svg>`;
}
