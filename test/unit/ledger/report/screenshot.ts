// Headless Chromium for the report's tests: render a page, keep its screenshot under
// test-output/report/ (git-ignored), and read the timeline back from the pixels.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isColour, type Image } from "./png.ts";

export const OUT = path.resolve(import.meta.dirname, "../../../../test-output/report");

export function chromium(): string | undefined {
  for (const bin of ["chromium", "chromium-browser"]) if (!spawnSync(bin, ["--version"], { encoding: "utf8" }).error) return bin;
  return undefined;
}

/** Renders `html` in headless Chromium and returns the screenshot's path. */
export function screenshot(bin: string, name: string, html: string): string {
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
export function runs(img: Image, hex: string, { y0 = 0, y1 = img.height - 1, min = 30 } = {}): { y: number; x0: number; x1: number }[] {
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
export function tallColumns(img: Image, hex: string, min = 40): { x: number; y0: number; y1: number }[] {
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

export const span = (rs: readonly { x0: number; x1: number; y: number }[]) => ({
  x0: Math.min(...rs.map((r) => r.x0)), x1: Math.max(...rs.map((r) => r.x1)), y0: Math.min(...rs.map((r) => r.y)), y1: Math.max(...rs.map((r) => r.y)),
});
