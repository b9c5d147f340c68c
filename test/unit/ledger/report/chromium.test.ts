// The HTML report as a person sees it: rendered by headless Chromium (Debian's
// `chromium` package, which hack/system-packages installs), screenshot kept under
// test-output/report/ (git-ignored), and the timeline read back from the pixels: the
// lanes, the bars on each side of the failover, the failover line between them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FAILOVER_COLOUR, GAP_COLOUR, LANE_COLOURS, renderHtml, reportOfExport } from "../../../../operator/src/ledger/report/index.ts";
import type { Selection } from "../../../../operator/src/ledger/report/index.ts";
import { skipForMissingTool } from "../../../support/missing-tool.ts";
import { decodePng } from "./png.ts";
import { chromium, runs, screenshot, span, tallColumns } from "./screenshot.ts";
import { failoverTrail } from "./trail.ts";

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
