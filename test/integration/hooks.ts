import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "./env.ts";

/**
 * Mocha root hooks for the integration suite: bring the local federation up once per
 * run (or reuse one that is already healthy) and take it down afterwards if this run
 * started it. KEEP_FEDERATION=1 leaves it running for the next run.
 */
const federation = path.join(repoRoot, "hack", "federation");
let startedHere = false;

function healthy(): boolean {
  return spawnSync(federation, ["status"], { stdio: "ignore" }).status === 0;
}

export const mochaHooks = {
  beforeAll(this: Mocha.Context) {
    // The first run on a fresh machine builds every tool from source; later runs reuse them.
    this.timeout(90 * 60 * 1000);
    if (healthy()) return;
    startedHere = true;
    execFileSync(federation, ["up"], { stdio: ["ignore", "inherit", "inherit"] });
  },
  afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    if (startedHere && process.env.KEEP_FEDERATION !== "1") {
      execFileSync(federation, ["down"], { stdio: ["ignore", "inherit", "inherit"] });
    }
  },
};
