// Runs the real bin/kubectl-sovereign as a child process, as kubectl would.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
export const BIN = `${REPO}bin/kubectl-sovereign`;
export const FIXTURES = "test/unit/cmd/fixtures";

export interface PluginResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runPlugin({ args, stdin, command = BIN, env = process.env }: {
  args: readonly string[];
  stdin?: string;
  command?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<PluginResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}
