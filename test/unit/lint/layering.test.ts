// `npm run lint` passing says the layering holds only if the rules can fail: this runs
// dependency-cruiser with the repo's .dependency-cruiser.js over a small tree that breaks
// each rule once, beside imports that every rule allows, and expects exactly those breaks.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");

/** file (under operator/src) → what it imports. */
const TREE: Record<string, string[]> = {
  // Allowed: each layer importing the one below through its index, packages where they belong.
  "cmd/controller/main.ts": ["../../controllers/index.ts", "../../federation/index.ts", "../../gen/sovereign/v1/intent.ts"],
  "controllers/index.ts": ["../runtime/index.ts", "../kube/index.ts", "../metrics/index.ts", "../gen/sovereign/v1/intent.ts", "../federation/nats/index.ts"],
  "agent/index.ts": ["../federation/index.ts", "../scheduler/index.ts"],
  "runtime/index.ts": ["../metrics/index.ts"],
  "metrics/index.ts": ["../scheduler/index.ts", "prom-client"],
  "kube/index.ts": ["../api/index.ts", "@kubernetes/client-node"],
  "federation/index.ts": ["./nats/index.ts", "./grpc/index.ts", "../gen/sovereign/v1/intent.ts"],
  "federation/nats/index.ts": ["./protocol.ts"],
  "federation/nats/protocol.ts": [],
  "federation/grpc/index.ts": ["../nats/index.ts"],
  "scheduler/index.ts": ["./core/index.ts", "../api/index.ts"],
  "scheduler/core/index.ts": ["./types.ts"],
  "scheduler/core/types.ts": [],
  "scheduler/plugins/index.ts": ["../core/index.ts"],
  "ledger/index.ts": ["../scheduler/index.ts", "../api/index.ts", "node:crypto"],
  "federation/nats/ledger.ts": ["../../ledger/index.ts"],
  "api/index.ts": ["./types.ts"],
  "api/types.ts": [],
  "gen/sovereign/v1/intent.ts": [],

  // One break per rule.
  "api/up.ts": ["../scheduler/index.ts"],
  "scheduler/up.ts": ["../kube/index.ts"],
  "kube/up.ts": ["../controllers/index.ts"],
  "agent/up.ts": ["../cmd/controller/main.ts"],
  "metrics/gen.ts": ["../gen/sovereign/v1/intent.ts"],
  "scheduler/core/io.ts": ["node:fs"],
  "scheduler/plugins/out.ts": ["../index.ts"],
  "federation/kube.ts": ["@kubernetes/client-node"],
  "kube/prom.ts": ["prom-client"],
  "controllers/deep.ts": ["../runtime/index.ts", "../api/types.ts"],
  "federation/deep.ts": ["./nats/protocol.ts"],
  "federation/grpc/deep.ts": ["../nats/protocol.ts"],
  "ledger/up.ts": ["../kube/index.ts"],
  "ledger/pkg.ts": ["pino"],
  "runtime/cycle-a.ts": ["./cycle-b.ts"],
  "runtime/cycle-b.ts": ["./cycle-a.ts"],
};

const EXPECTED = [
  "api-is-the-bottom: api/up.ts",
  "controllers-agent-not-cmd: agent/up.ts",
  // cmd/ has no index.ts: an import into it is also a deep import.
  "cross-folder-through-index: agent/up.ts",
  "cross-folder-through-index: controllers/deep.ts",
  "gen-only-for-protocol-speakers: metrics/gen.ts",
  "ledger-imports-no-packages: ledger/pkg.ts",
  "ledger-only-above-scheduler: ledger/up.ts",
  "middle-layer-not-upwards: kube/up.ts",
  // A cycle is reported once, from its first module.
  "no-circular: runtime/cycle-a.ts",
  "only-kube-imports-client-node: federation/kube.ts",
  "only-metrics-imports-prom-client: kube/prom.ts",
  "scheduler-core-is-pure: scheduler/core/io.ts",
  "scheduler-only-above-api: scheduler/up.ts",
  "scheduler-plugins-are-pure: scheduler/plugins/out.ts",
  "sub-folder-through-index-from-parent: federation/deep.ts",
  "sub-folder-through-index-from-sibling: federation/grpc/deep.ts",
];

describe("lint: the layering rules (.dependency-cruiser.js)", function () {
  this.timeout(60_000);
  let dir = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "layering-"));
    for (const [file, imports] of Object.entries(TREE)) {
      const path = join(dir, "operator/src", file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, imports.map((m, i) => `import * as m${i} from "${m}";\nvoid m${i};\n`).join("") + "export const x = 1;\n");
    }
    for (const f of [".dependency-cruiser.js", "tsconfig.json", "package.json"]) copyFileSync(join(ROOT, f), join(dir, f));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("flags each break once with its rule, and nothing the layering allows", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs"), "operator/src", "--config", ".dependency-cruiser.js", "-T", "json"],
      { cwd: dir, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    assert.ok(run.stdout, run.stderr);
    const { summary } = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string }[] } };
    const got = [...new Set(summary.violations.map((v) => `${v.rule.name}: ${v.from.replace(/^operator\/src\//, "")}`))].sort();
    assert.deepEqual(got, EXPECTED);
  });
});
