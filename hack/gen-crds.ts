#!/usr/bin/env node
// Writes crds/*.yaml and crds/VALIDATION.md from the schema description in operator/src/api/schema/.
// `--check` writes nothing and exits 1 if a committed file differs (for CI).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderAllCrds } from "../operator/src/api/crd.ts";

const crdsDir = path.resolve(import.meta.dirname, "..", "crds");
const check = process.argv.includes("--check");
let stale = 0;
for (const { file, content } of renderAllCrds()) {
  const target = path.join(crdsDir, file);
  let current: string | undefined;
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    console.error(`crds/${file} is out of date: run npm run gen:crds`);
    stale++;
  } else {
    writeFileSync(target, content);
    console.log(`wrote crds/${file}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
