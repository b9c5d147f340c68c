// Runs Debian's promtool (apt-get install prometheus); undefined when it is not installed,
// so a test can say so and skip instead of passing silently.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

export function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const bin = path.join(dir, "promtool");
    if (dir && existsSync(bin)) return bin;
  }
  return undefined;
}

export function promtool(opts: { bin: string; args: readonly string[]; input?: string; cwd?: string }): { status: number | null; output: string } {
  const r = spawnSync(opts.bin, opts.args, { input: opts.input, cwd: opts.cwd, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}
