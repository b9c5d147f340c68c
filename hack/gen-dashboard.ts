// Writes the Grafana dashboard the control-plane chart ships (hack/lib/dashboard/ is its
// source, operator/src/metrics/definitions.ts its metric names).
// `--check` writes nothing and exits 1 if the committed file differs (for CI and a unit test).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { DASHBOARD_FILE, renderDashboard } from "./lib/dashboard/index.ts";

const root = path.resolve(import.meta.dirname, "..");
const target = path.join(root, DASHBOARD_FILE);
const content = renderDashboard();

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    // A missing file is stale too.
  }
  if (committed !== content) {
    console.error(`${DASHBOARD_FILE} is stale: run node hack/gen-dashboard.ts`);
    process.exitCode = 1;
  }
} else {
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote ${DASHBOARD_FILE}`);
}
