// The HTML report as a person sees it: rendered by headless Chromium (Debian's
// `chromium` package, which hack/system-packages installs), screenshot kept under
// test-output/report/ (git-ignored), and the timeline read back from the pixels: the
// lanes, the bars on each side of the failover, the failover line between them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FAILOVER_COLOUR, GAP_COLOUR, LANE_COLOURS, renderHtml, reportOfExport } from "../../../../operator/src/ledger/report/index.ts";
import type { Selection } from "../../../../operator/src/ledger/report/index.ts";
import { skipForMissingTool } from "../../../support/missing-tool.ts";
import { decodePng, isColour, type Image } from "./png.ts";
import { failoverTrail } from "./trail.ts";

const OUT = path.resolve(import.meta.dirname, "../../../../test-output/report");

function chromium(): string | undefined {
  for (const bin of ["chromium", "chromium-browser"]) if (!spawnSync(bin, ["--version"], { encoding: "utf8" }).error) return bin;
  return undefined;
}

/** Renders `html` in headless Chromium and returns the screenshot's path. */
function screenshot(bin: string, name: string, html: string): string {
  mkdirSync(OUT, { recursive: true });
  const page = path.join(OUT, `${name}.html`);
  const png = path.join(OUT, `${name}.png`);
  writeFileSync(page, html);
  rmSync(png, { force: true });
  const profile = mkdtempSync(path.join(tmpdir(), "report-chromium-"));
  try {
    // --no-sandbox: the sandbox needs user namespaces, which containers and root runs lack.
    const r = spawnSync(bin, [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
      `--user-data-dir=${profile}`, "--window-size=1200,1000", `--screenshot=${png}`, `file://${page}`,
    ], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `chromium failed (${r.status} ${r.signal ?? ""}):\n${r.stderr}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  return png;
}

/** Horizontal runs of at least `min` pixels of `hex` within rows `y0..y1`: bars, not glyphs. */
function runs(img: Image, hex: string, { y0 = 0, y1 = img.height - 1, min = 30 } = {}): { y: number; x0: number; x1: number }[] {
  const out: { y: number; x0: number; x1: number }[] = [];
  for (let y = y0; y <= y1; y++) {
    let start = -1;
    for (let x = 0; x <= img.width; x++) {
      const hit = x < img.width && isColour(img, x, y, hex);
      if (hit && start < 0) start = x;
      if (!hit && start >= 0) {
        if (x - start >= min) out.push({ y, x0: start, x1: x - 1 });
        start = -1;
      }
    }
  }
  return out;
}

/** Columns with a vertical run of at least `min` pixels of `hex`: the failover line. */
function tallColumns(img: Image, hex: string, min = 40): { x: number; y0: number; y1: number }[] {
  const out: { x: number; y0: number; y1: number }[] = [];
  for (let x = 0; x < img.width; x++) {
    let start = -1;
    for (let y = 0; y <= img.height; y++) {
      const hit = y < img.height && isColour(img, x, y, hex);
      if (hit && start < 0) start = y;
      if (!hit && start >= 0) {
        if (y - start >= min) out.push({ x, y0: start, y1: y - 1 });
        start = -1;
      }
    }
  }
  return out;
}

const span = (rs: readonly { x0: number; x1: number; y: number }[]) => ({
  x0: Math.min(...rs.map((r) => r.x0)), x1: Math.max(...rs.map((r) => r.x1)), y0: Math.min(...rs.map((r) => r.y)), y1: Math.max(...rs.map((r) => r.y)),
});

describe("residency report: the HTML timeline in headless Chromium", function () {
  this.timeout(120_000);
  const bin = chromium();
  before(function () {
    if (!bin) skipForMissingTool(this, { tool: "chromium (renders the report's HTML)", install: "apt-get install chromium, or run hack/system-packages as root" });
  });
  const { data } = failoverTrail();
  const htmlOf = (selection: Selection) => renderHtml(reportOfExport({ data, selection, since: undefined, until: undefined, generatedAt: new Date(Date.UTC(2026, 11, 5)) }));
  // Countries of the report in order: DE first, FR second.
  const [DE, FR] = [LANE_COLOURS[0], LANE_COLOURS[1]];

  it("shows the failover at a glance: FR's bar ends and DE's begins at the red line, in separate lanes, DE taller after the scale-up", async () => {
    const img = decodePng(readFileSync(screenshot(bin!, "failover", htmlOf({ all: false, name: "patient-portal", namespace: "health" }))));
    assert.deepEqual([img.width, img.height], [1200, 1000]);
    const line = tallColumns(img, FAILOVER_COLOUR);
    assert.ok(line.length >= 1 && line.length <= 3, `one failover line (2 px), found columns ${JSON.stringify(line)}`);
    const x = line[0]!.x;
    const lanes = { y0: line[0]!.y0, y1: line[0]!.y1 };
    const fr = span(runs(img, FR, lanes));
    const de = span(runs(img, DE, lanes));
    assert.ok(Number.isFinite(fr.x0) && Number.isFinite(de.x0), "both countries' bars are drawn");
    assert.ok(de.y1 < fr.y0, `DE's lane is above FR's: ${JSON.stringify({ de, fr })}`);
    assert.ok(fr.x0 < x - 200 && Math.abs(fr.x1 - x) <= 3, `FR's bar runs up to the failover: ${JSON.stringify({ fr, x })}`);
    assert.ok(Math.abs(de.x0 - x) <= 3 && de.x1 > x + 200, `DE's bar starts at the failover: ${JSON.stringify({ de, x })}`);
    assert.ok(Math.abs((x - fr.x0) - (de.x1 - x)) <= 4, "30 minutes on each side of the failover take the same width");
    // Bar heights: 3 replicas on DE until 09:45, 4 after.
    const height = (at: number) => runs(img, DE, { ...lanes, min: 1 }).filter((r) => r.x0 <= at && at <= r.x1).length;
    assert.ok(height(de.x1 - 10) > height(x + 20), `the bar grows with the replicas: ${height(x + 20)} px then ${height(de.x1 - 10)} px`);
    // The amber band where ovh-par-1 stopped attesting, in FR's lane, before the failover.
    const gap = span(runs(img, GAP_COLOUR, { y0: fr.y0, y1: fr.y1 + 12, min: 10 }));
    assert.ok(gap.x0 > fr.x0 && gap.x1 <= x + 1 && gap.x1 >= x - 3, `the attestation gap ends at the failover: ${JSON.stringify({ gap, x })}`);
  });

  it("draws no failover line where there was none (positive control of the pixel reading)", async () => {
    const img = decodePng(readFileSync(screenshot(bin!, "no-failover", htmlOf({ all: false, name: "records-db", namespace: "health" }))));
    assert.deepEqual(tallColumns(img, FAILOVER_COLOUR), []);
    assert.ok(runs(img, LANE_COLOURS[0]).length > 5, "the bar of its one country is there");
  });
});
