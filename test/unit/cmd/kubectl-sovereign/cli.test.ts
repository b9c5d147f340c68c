import assert from "node:assert/strict";
import { runCli, type CliEnvironment } from "../../../../operator/src/cmd/kubectl-sovereign/cli.ts";
import { parseSimulateOptions } from "../../../../operator/src/cmd/kubectl-sovereign/options.ts";
import { TestClock } from "../../../../operator/src/runtime/index.ts";

function env(files: Record<string, string> = {}): CliEnvironment & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    clock: new TestClock("2026-11-28T00:00:00Z"),
    // The token command's use of a real host is tested against the local federation.
    hostApi: () => {
      throw new Error("no host API in unit tests");
    },
    reader: {
      readFile: async (path) => {
        if (!(path in files)) throw new Error(`ENOENT: ${path}`);
        return files[path]!;
      },
      listDirectory: async () => undefined,
      readStdin: async () => "",
    },
  };
}

describe("kubectl sovereign command line", () => {
  const usageCases = [
    { name: "requires -f", argv: ["simulate"], message: /-f\/--filename is required/ },
    { name: "refuses an output format other than json or table", argv: ["simulate", "-f", "x.yaml", "-o", "yaml"], message: /-o\/--output: "yaml" is not json or table/ },
    { name: "refuses a --now that is not a time", argv: ["simulate", "-f", "x.yaml", "--now", "yesterday"], message: /--now: "yesterday" is not an RFC 3339 time/ },
    { name: "refuses an unknown flag", argv: ["simulate", "-f", "x.yaml", "--dry-run"], message: /Unknown option '--dry-run'/ },
    { name: "refuses an unknown command", argv: ["apply"], message: /unknown command "apply"/ },
    { name: "refuses token without a verb", argv: ["token"], message: /token needs a verb: create/ },
    { name: "refuses token create without a cluster", argv: ["token", "create"], message: /needs the MemberCluster's name/ },
    { name: "refuses a cluster name that cannot be a NATS subject token", argv: ["token", "create", "fr.de"], message: /CLUSTER: / },
    { name: "refuses a --ttl that is not a duration", argv: ["token", "create", "fr", "--ttl", "forever"], message: /--ttl: "forever" is not a duration between 1m and 7d/ },
    { name: "refuses a --ttl longer than a week", argv: ["token", "create", "fr", "--ttl", "8d"], message: /--ttl: "8d"/ },
  ];
  for (const c of usageCases) {
    it(`${c.name}, with exit status 2 and the usage`, async () => {
      const e = env();
      assert.equal(await runCli({ argv: c.argv, env: e }), 2);
      assert.match(e.err.join(""), c.message);
      assert.match(e.err.join(""), /Usage: kubectl sovereign/);
    });
  }

  it("prints simulate's help with exit status 0", async () => {
    const e = env();
    assert.equal(await runCli({ argv: ["simulate", "--help"], env: e }), 0);
    assert.match(e.out.join(""), /-f, --filename FILE/);
  });

  it("defaults --now to the clock and -o to json", () => {
    assert.deepEqual(parseSimulateOptions({ args: ["-f", "a.yaml", "--filename", "b.yaml"], clock: new TestClock(42) }), { files: ["a.yaml", "b.yaml"], now: 42, output: "json" });
  });

  it("reads a date-only --now as midnight UTC", () => {
    const o = parseSimulateOptions({ args: ["-f", "a.yaml", "--now", "2026-11-28"], clock: new TestClock(0) });
    assert.equal(o !== "help" && o.now, Date.parse("2026-11-28T00:00:00Z"));
  });

  it("prints an empty decision list for input without workloads", async () => {
    const e = env({ "empty.yaml": "---\n" });
    assert.equal(await runCli({ argv: ["simulate", "-f", "empty.yaml"], env: e }), 0);
    assert.deepEqual(JSON.parse(e.out.join("")), { decisions: [] });
  });
});
