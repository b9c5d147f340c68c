// The soak's plot: stacked time-series panels drawn as one SVG inside an HTML page, and
// a PNG of it taken with the headless Chromium hack/system-packages installs (no plotting
// dependency). Pure up to `screenshot`, so the drawing is unit-tested without a browser.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface Series {
  label: string;
  colour: string;
  /** [x, y] points, x in minutes; y NaN for a sample that could not be read (a gap). */
  points: readonly (readonly [number, number])[];
}

export interface Panel {
  title: string;
  unit: string;
  series: readonly Series[];
}

export interface Marker {
  x: number;
  label: string;
}

export const PLOT = { width: 1200, panelHeight: 290, top: 60, left: 80, right: 200, gap: 30 } as const;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A "nice" upper bound and step for an axis from 0 to `max` (1, 2 or 5 times a power of ten). */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

/** The SVG path data of a series, broken at gaps (NaN samples). */
export function pathData(points: readonly (readonly [number, number])[], x: (v: number) => number, y: (v: number) => number): string {
  let d = "";
  let pen = false;
  for (const [px, py] of points) {
    if (!Number.isFinite(py)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)} `;
    pen = true;
  }
  return d.trim();
}

/** The whole page: a title, a subtitle, and one panel per metric sharing the time axis. */
export function chartHtml(params: { title: string; subtitle: string; panels: readonly Panel[]; markers?: readonly Marker[]; xLabel?: string }): string {
  const { width, panelHeight, top, left, right, gap } = PLOT;
  const plotW = width - left - right;
  const xs = params.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMax = Math.max(1e-9, ...xs);
  const x = (v: number) => left + (v / xMax) * plotW;
  const xScale = niceScale(xMax, 10);
  const height = top + params.panels.length * (panelHeight + gap) + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="18" font-weight="bold">${esc(params.title)}</text>`,
    `<text x="${left}" y="44" fill="#444">${esc(params.subtitle)}</text>`,
  ];
  params.panels.forEach((panel, i) => {
    const y0 = top + i * (panelHeight + gap) + 20;
    const h = panelHeight - 40;
    const ys = panel.series.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite);
    const { top: yTop, step } = niceScale(Math.max(0, ...ys));
    const y = (v: number) => y0 + h - (v / yTop) * h;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)})</text>`);
    for (let t = 0; t <= yTop + step / 2; t += step) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${Number(t.toPrecision(6))}</text>`);
    }
    for (let t = 0; t <= xMax + 1e-9; t += xScale.step) {
      out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y0}" y2="${y0 + h}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${x(t).toFixed(1)}" y="${y0 + h + 16}" text-anchor="middle" fill="#555">${Number(t.toPrecision(6))}</text>`);
    }
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${h}" fill="none" stroke="#999"/>`);
    for (const m of params.markers ?? []) {
      out.push(`<line x1="${x(m.x).toFixed(1)}" x2="${x(m.x).toFixed(1)}" y1="${y0}" y2="${y0 + h}" stroke="#888" stroke-dasharray="6,4"/>`);
      // Right of its line, or left of it where it would run into the legends (about 7 px a character).
      const fits = x(m.x) + 4 + m.label.length * 7 <= left + plotW;
      if (i === 0) out.push(`<text x="${(x(m.x) + (fits ? 4 : -4)).toFixed(1)}" y="${y0 + 14}" fill="#666"${fits ? "" : ' text-anchor="end"'}>${esc(m.label)}</text>`);
    }
    panel.series.forEach((s, k) => {
      out.push(`<path d="${pathData(s.points, x, y)}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
      const ly = y0 + 14 + k * 20;
      out.push(`<line x1="${left + plotW + 12}" x2="${left + plotW + 36}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="3"/>`);
      out.push(`<text x="${left + plotW + 42}" y="${ly}">${esc(s.label)}</text>`);
    });
  });
  out.push(`<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle" fill="#333">${esc(params.xLabel ?? "minutes")}</text>`, "</svg>");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(params.title)}</title><style>body{margin:0;background:#fff}</style></head><body>${out.join("\n")}</body></html>`;
}

/** The page's height in pixels for `panels` panels (the screenshot's window). */
export function chartHeight(panels: number): number {
  return PLOT.top + panels * (PLOT.panelHeight + PLOT.gap) + 30;
}

export function chromium(): string | undefined {
  for (const bin of ["chromium", "chromium-browser"]) if (!spawnSync(bin, ["--version"], { encoding: "utf8" }).error) return bin;
  return undefined;
}

/** Writes `name`.html under `dir` and its headless-Chromium screenshot `name`.png; returns both paths. */
export function screenshot(params: { bin: string; dir: string; name: string; html: string; height: number }): { html: string; png: string } {
  mkdirSync(params.dir, { recursive: true });
  const html = path.join(params.dir, `${params.name}.html`);
  const png = path.join(params.dir, `${params.name}.png`);
  writeFileSync(html, params.html);
  rmSync(png, { force: true });
  const profile = mkdtempSync(path.join(tmpdir(), "soak-chromium-"));
  try {
    // --no-sandbox: the sandbox needs user namespaces, which containers and root runs lack.
    const r = spawnSync(params.bin, [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
      `--user-data-dir=${profile}`, `--window-size=${PLOT.width},${params.height}`, `--screenshot=${png}`, `file://${html}`,
    ], { encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`chromium failed (${r.status} ${r.signal ?? ""}):\n${r.stderr}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  return { html, png };
}
