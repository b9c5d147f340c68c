import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMAND_NAMES, COMMANDS } from "../../../../operator/src/cmd/kubectl-sovereign/commands.ts";
import { complete, Directive, formatCompletion } from "../../../../operator/src/cmd/kubectl-sovereign/completion.ts";
import { BASH_SCRIPT } from "../../../../operator/src/cmd/kubectl-sovereign/completion.ts";
import { REPO, runPlugin } from "./run-plugin.ts";

const { Default, NoFileComp } = Directive;

describe("kubectl sovereign completion", () => {
  const cases = [
    { args: [""], candidates: [...COMMAND_NAMES, "help"], directive: NoFileComp, what: "every command at the start" },
    { args: ["s"], candidates: ["status", "simulate"], directive: NoFileComp, what: "the commands with that prefix" },
    { args: ["-"], candidates: ["--help"], directive: NoFileComp, what: "the root's only flag" },
    { args: ["status", "-o", ""], candidates: ["table", "json", "yaml"], directive: NoFileComp, what: "-o's values" },
    { args: ["simulate", "-o", ""], candidates: ["json", "table"], directive: NoFileComp, what: "simulate's own -o values" },
    { args: ["audit", "--output=y"], candidates: ["--output=yaml"], directive: NoFileComp, what: "a value given with =" },
    { args: ["clusters", "--"], candidates: ["--output", "--kubeconfig", "--context", "--help"], directive: NoFileComp, what: "a command's long flags" },
    { args: ["clusters", "-"], candidates: ["-o", "-h", "--output", "--kubeconfig", "--context", "--help"], directive: NoFileComp, what: "short and long flags after a lone dash" },
    { args: ["explain", "web", "--grpc-c"], candidates: ["--grpc-ca", "--grpc-cert"], directive: NoFileComp, what: "flags with that prefix" },
    { args: ["explain", "--grpc-ca", ""], candidates: [], directive: Default, what: "file names for a file flag" },
    { args: ["simulate", "-f", ""], candidates: [], directive: Default, what: "file names for -f" },
    { args: ["status", "-n", ""], candidates: [], directive: NoFileComp, what: "nothing (and no files) for a free-text value" },
    { args: ["status", ""], candidates: [], directive: NoFileComp, what: "no files for a workload name" },
    { args: ["token", ""], candidates: ["create"], directive: NoFileComp, what: "token's verb" },
    { args: ["token", "--ttl", "1h", ""], candidates: ["create"], directive: NoFileComp, what: "token's verb after a flag and its value" },
    { args: ["token", "create", ""], candidates: [], directive: NoFileComp, what: "nothing after token's verb" },
    { args: ["completion", ""], candidates: ["bash", "zsh"], directive: NoFileComp, what: "the shells" },
    { args: ["apply", ""], candidates: [], directive: NoFileComp, what: "nothing after an unknown command" },
  ];
  for (const c of cases) {
    it(`completes ${JSON.stringify(c.args)} with ${c.what}`, () => {
      assert.deepEqual(complete(c.args), { candidates: c.candidates, directive: c.directive });
    });
  }

  it("completes every declared flag of every command", () => {
    for (const name of COMMAND_NAMES) {
      const offered = complete([name, "--"]).candidates;
      assert.deepEqual(offered, COMMANDS[name].flags.map((f) => `--${f.name}`), name);
    }
  });

  it("answers in cobra's protocol: one candidate per line, then the directive", () => {
    assert.equal(formatCompletion({ candidates: ["json", "yaml"], directive: NoFileComp }), "json\nyaml\n:4\n");
  });

  it("answers __complete from the real launcher, as kubectl_complete-sovereign asks it", async () => {
    const r = await runPlugin({ args: ["__complete", "status", "-o", "j"] });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, "json\n:4\n");
    const viaKubectlName = await runPlugin({ args: ["status", "-o", "j"], command: `${REPO}bin/kubectl_complete-sovereign` });
    assert.equal(viaKubectlName.stdout, "json\n:4\n");
  });

  it("prints scripts that bash and zsh accept", async () => {
    for (const shell of ["bash", "zsh"]) {
      const r = await runPlugin({ args: ["completion", shell] });
      assert.equal(r.status, 0);
      assert.match(r.stdout, /_kubectl_sovereign\(\)/);
    }
    const syntax = spawnSync("bash", ["-n"], { input: BASH_SCRIPT, encoding: "utf8" });
    assert.equal(syntax.status, 0, syntax.stderr);
  });

  describe("the bash script in a real bash", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "sovereign-completion-"));
      writeFileSync(join(dir, "a.yaml"), "");
      writeFileSync(join(dir, "b.yaml"), "");
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** What bash offers for `line` typed so far, with the cursor at its end. */
    function bashCompletes(line: string): string[] {
      const script = `${BASH_SCRIPT}
COMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}
_kubectl_sovereign
printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", env: { ...process.env, PATH: `${REPO}bin:${process.env.PATH}` } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split("\n").filter(Boolean).sort();
    }

    it("offers commands, -o values, values after '=' without the flag, and files for -f", () => {
      assert.deepEqual(bashCompletes("kubectl-sovereign cl"), ["clusters"]);
      assert.deepEqual(bashCompletes("kubectl-sovereign status web -o "), ["json", "table", "yaml"]);
      // bash splits at '=': the reply replaces only what follows it.
      assert.deepEqual(bashCompletes("kubectl-sovereign status web --output=ya"), ["yaml"]);
      assert.deepEqual(bashCompletes("kubectl-sovereign simulate -f "), ["a.yaml", "b.yaml"]);
    });

    it("offers no files where a file makes no sense (positive control: -f offers them above)", () => {
      assert.deepEqual(bashCompletes("kubectl-sovereign status "), []);
    });
  });
});
