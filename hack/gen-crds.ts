#!/usr/bin/env node
// Writes crds/*.yaml and crds/VALIDATION.md from the schema description in operator/src/api/schema/.
// `--check` writes nothing and exits 1 if a committed file differs (for CI).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderAllCrds } from "../operator/src/api/crd.ts";

const root = path.resolve(import.meta.dirname, "..");
// The control-plane chart carries the same CRDs (Helm reads no file outside a chart).
const chartCrds = path.join("charts", "control-plane", "files", "crds");
const check = process.argv.includes("--check");
let stale = 0;
const targets = renderAllCrds().flatMap(({ file, content }) => [
  { content, rel: `crds/${file}` },
  ...(file.endsWith(".yaml") ? [{ content, rel: path.join(chartCrds, file) }] : []),
]);
for (const { rel, content } of targets) {
  const target = path.join(root, rel);
  let current: string | undefined;
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    console.error(`${rel} is out of date: run npm run gen:crds`);
    stale++;
  } else {
    writeFileSync(target, content);
    console.log(`wrote ${rel}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
