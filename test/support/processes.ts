// Helpers for tests that start or restart the federation's processes themselves.
import { createServer } from "node:net";
import { readState } from "../../hack/lib/federation/state.ts";
import { federationStateDir } from "../integration/env.ts";

/** A free loopback port, for listeners of processes a test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** How the local federation started `component` (its state file): pid, binary and arguments. */
export function recorded(component: string): { pid: number; binary: string; args: string[] } {
  const state = readState(federationStateDir());
  const p = state?.processes.find((x) => x.component === component);
  if (!p?.args) throw new Error(`no recorded ${component} in the federation's state`);
  return { pid: p.pid, binary: p.binary, args: p.args };
}

/** `args` with `flag` set to `value` (`--flag value` or `--flag=value` as found; appended when absent). */
export function replaceFlag(args: string[], flag: string, value: string): string[] {
  const out = [...args];
  const i = out.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return [...out, flag, value];
  if (out[i] === flag) out[i + 1] = value;
  else out[i] = `${flag}=${value}`;
  return out;
}
