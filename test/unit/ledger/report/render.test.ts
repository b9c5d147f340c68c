import assert from "node:assert/strict";
import { canonicalJson } from "../../../../operator/src/ledger/index.ts";
import type { LedgerRecord } from "../../../../operator/src/ledger/index.ts";
import { escapeHtml, escapeMarkdown, renderHtml, renderJson, renderMarkdown, reportOfExport, ticksOf } from "../../../../operator/src/ledger/report/index.ts";
import { CLUSTERS, failoverTrail, MIN, T0, Trail, WEB } from "./trail.ts";

const NOW = new Date(Date.UTC(2026, 11, 5));
const reportOf = (data: Uint8Array) => reportOfExport({ data, selection: { all: true }, since: undefined, until: undefined, generatedAt: NOW });

/** Pipes that end a Markdown table cell (an escaped one, "\|", does not). */
const cellBars = (line: string) => (line.match(/(?<!\\)\|/g) ?? []).length;

describe("residency report: Markdown", () => {
  it("says the trail verified before anything else, then each workload's stays, moves, certifications and attestations", async () => {
    const md = renderMarkdown(reportOf(failoverTrail().data));
    const lines = md.split("\n");
    assert.equal(lines[0], "# Residency report: all workloads");
    assert.match(lines.find((l) => l.startsWith(">"))!, /^> \*\*Verified: no findings\.\*\* 33 records in 2 chains \(DE, FR\), 35 signatures, 24 member attestations and 5 placements/);
    assert.ok(md.indexOf("Verified") < md.indexOf("## health/patient-portal"));
    for (const h of ["### Where it ran", "### Moves", "### Certifications relied on", "### Member attestations"]) assert.ok(md.includes(h), h);
    assert.ok(lines.includes("| 2026-11-28 09:30:00Z | **failover** Moved | ionos-fra-1 | DE | 0 → 3 | ovh-par-1 | Failover | control-plane/sovereign-control-plane-0 | line 2 |"), md);
    assert.ok(lines.includes("- ovh-par-1: 2026-11-28 09:19:30Z to 2026-11-28 09:30:00Z (10m 30s)"));
    assert.ok(lines.includes("| DE | ionos-fra-1 | IONOS | eu-central-fra | 2026-11-28 09:45:00Z | 2026-11-28 10:00:00Z (still running) | 4 |"));
  });

  it("puts a trail's findings at the top, each with its line", async () => {
    const { lines } = failoverTrail();
    const edited = [...lines];
    const rec = JSON.parse(edited[5]!) as LedgerRecord;
    rec.time = "2026-11-28T09:59:59.000Z";
    edited[5] = canonicalJson(rec);
    const md = renderMarkdown(reportOf(Buffer.from(`${edited.join("\n")}\n`)));
    const warning = md.indexOf("> **Warning: the trail did not verify");
    assert.ok(warning > 0 && warning < md.indexOf("## "), md.slice(0, 600));
    assert.match(md, /^> - line 6, record `[^`]+`: hash /m);
  });

  it("says a trail exported with --since is partial, and from when", async () => {
    const { trail } = failoverTrail({ attestations: false });
    const report = reportOf(trail.export({ at: T0 + 60 * MIN, since: T0 + 20 * MIN }).data);
    assert.ok(renderMarkdown(report).includes("> **Partial trail:** chain FR starts at 2026-11-28 09:20:00Z (exported with --since): where workloads ran before that is not in it."));
    assert.ok(renderHtml(report).includes('<div class="banner part"><strong>Partial trail:</strong> chain FR starts at 2026-11-28 09:20:00Z'));
    assert.ok(!renderMarkdown(reportOf(failoverTrail().data)).includes("Partial trail"));
  });

  it("escapes what the trail says: a hostile name stays one cell of text", async () => {
    assert.equal(escapeMarkdown("a|b*c_[d](e)<f>\n`g`"), "a\\|b\\*c\\_\\[d\\](e)\\<f\\> \\`g\\`");
    const evil = "x|y<b>**z**";
    const t = new Trail({ facts: { ...CLUSTERS, [evil]: { ...CLUSTERS["ovh-par-1"]! } } });
    t.placement({ at: T0, workload: WEB, cluster: evil, replicas: 1, decidedBy: "a|b", reasons: ["r|s"] });
    const md = renderMarkdown(reportOf(t.export({ at: T0 + MIN }).data));
    const header = md.split("\n").find((l) => l.startsWith("| Time |"))!;
    const row = md.split("\n").find((l) => l.startsWith("| 2026-11-28 09:00:00Z |"))!;
    assert.equal(cellBars(row), cellBars(header), row);
    assert.ok(!md.includes("<b>") && !md.includes("**z**"));
  });
});

describe("residency report: HTML", () => {
  const html = renderHtml(reportOf(failoverTrail().data));

  it("is one self-contained page: nothing to fetch, no script, a policy that forbids both", async () => {
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`));
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\s(src|href)\s*=|url\(|@import/i);
    // The only URL is the SVG namespace, which names and fetches nothing.
    assert.deepEqual([...new Set(html.match(/https?:\/\/[^\s"']+/g))], ["http://www.w3.org/2000/svg"]);
  });

  it("draws a timeline per workload with countries as lanes, a bar per stay and the failover marked", async () => {
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    const svg = html.slice(html.indexOf("<svg "), html.indexOf("</svg>"));
    assert.ok(svg.indexOf(">DE</text>") < svg.indexOf(">FR</text>"), "lanes in country order");
    assert.equal((svg.match(/<rect [^>]*shape-rendering="crispEdges"><title>[^<]*replica/g) ?? []).length, 3, "one bar per stay");
    assert.match(svg, /⚡ failover ovh-par-1 → ionos-fra-1<\/text>/);
    assert.match(svg, /<title>no attestation from ovh-par-1, 2026-11-28 09:19:30Z to 2026-11-28 09:30:00Z \(10m 30s\)<\/title>/);
  });

  it("escapes every string of the trail, in text and in attributes", async () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
    const evil = `<img src=x onerror="alert(1)">`;
    const t = new Trail({ facts: { ...CLUSTERS, [evil]: { ...CLUSTERS["ovh-par-1"]!, provider: "</td><script>alert(2)</script>" } } });
    t.placement({ at: T0, workload: { ...WEB, name: `"><svg onload=alert(3)>` }, cluster: evil, replicas: 2, decidedBy: "<b>me</b>", reasons: ["<i>why</i>"] });
    t.attest({ at: T0 + MIN, member: evil, workload: { ...WEB, name: `"><svg onload=alert(3)>` }, pods: 2 });
    const page = renderHtml(reportOf(t.export({ at: T0 + 20 * MIN }).data));
    assert.doesNotMatch(page, /<img|<script|<svg onload|<b>me|<i>why/);
    assert.ok(page.includes("&#60;img src=x onerror=&#34;alert(1)&#34;&#62;"));
  });

  it("puts the time axis on round instants", async () => {
    assert.deepEqual(ticksOf(T0, T0 + 60 * MIN).map((t) => new Date(t).toISOString().slice(11, 16)), ["09:00", "09:15", "09:30", "09:45", "10:00"]);
    assert.ok(ticksOf(T0, T0 + 7 * 86_400_000).length <= 8);
    assert.deepEqual(ticksOf(T0 + 1, T0 + 2), []);
  });
});

describe("residency report: JSON", () => {
  it("is the model itself, for machines", async () => {
    const report = reportOf(failoverTrail().data);
    assert.deepEqual(JSON.parse(renderJson(report)), report);
  });
});
