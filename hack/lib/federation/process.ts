import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { waitFor } from "../../../operator/src/runtime/wait.ts";

/** A process the federation started, as recorded in the state file. */
export interface RecordedProcess {
  component: string;
  pid: number;
  binary: string;
  /** What it was started with, so `start` runs it again exactly so and a reused pid is told apart. */
  args?: string[];
  log: string;
}

/** A component did not come up; the message names it and its log. Not retried. */
export class ComponentStartError extends Error {
  override readonly name = "ComponentStartError";
  readonly component: string;
  readonly log: string;
  constructor(opts: { component: string; log: string; reason: string; cause?: unknown }) {
    super(`${opts.component} did not start: ${opts.reason}; see its log ${opts.log}${tail(opts.log)}`, { cause: opts.cause });
    this.component = opts.component;
    this.log = opts.log;
  }
}

function tail(log: string): string {
  if (!existsSync(log)) return "";
  const lines = readFileSync(log, "utf8").trimEnd().split("\n").slice(-8);
  return lines.length ? `\n  last lines:\n    ${lines.join("\n    ")}` : "";
}

/**
 * Starts a server detached from this process (it outlives `hack/federation up`),
 * its output appended to its own log file.
 */
export function startDetached(opts: { component: string; binary: string; args: string[]; log: string; cwd?: string }): RecordedProcess {
  const fd = openSync(opts.log, "a");
  try {
    const child = spawn(opts.binary, opts.args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      cwd: opts.cwd,
      env: { ...process.env, GOMAXPROCS: process.env.GOMAXPROCS ?? "2" },
    });
    if (child.pid === undefined) throw new ComponentStartError({ component: opts.component, log: opts.log, reason: `could not spawn ${opts.binary}` });
    child.unref();
    return { component: opts.component, pid: child.pid, binary: opts.binary, args: [...opts.args], log: opts.log };
  } finally {
    closeSync(fd);
  }
}

/**
 * True when the pid is alive AND still runs our binary (pids get reused), with the
 * recorded arguments when there are any: the control plane and the agents all run the
 * same node binary.
 */
export function isRunning(p: Pick<RecordedProcess, "pid" | "binary" | "args">): boolean {
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, "utf8");
    const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
    // A zombie has exited; it only waits to be reaped by its parent.
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    const argv = cmdline.split("\0").slice(0, -1);
    if (argv[0] !== p.binary) return false;
    return p.args === undefined || argv.slice(1).join("\0") === p.args.join("\0");
  } catch {
    return false;
  }
}

/** How `stop` ends a process: TERM lets it shut down cleanly; KILL is a crash (tests of recovery). */
export type StopSignal = "TERM" | "KILL";

/**
 * SIGTERM, then SIGKILL if the process outlives the grace period; or SIGKILL at once
 * (`signal: "KILL"`), so nothing gets to flush or say goodbye.
 */
export async function stopProcess(p: RecordedProcess, opts: { graceMs?: number; signal?: StopSignal } = {}): Promise<void> {
  const graceMs = opts.graceMs ?? 10_000;
  const signal = opts.signal ?? "TERM";
  if (!isRunning(p)) return;
  try {
    process.kill(p.pid, signal === "KILL" ? "SIGKILL" : "SIGTERM");
  } catch {
    return;
  }
  if (signal === "KILL") {
    await waitFor(() => !isRunning(p), { what: `${p.component} (pid ${p.pid}) to die after SIGKILL`, timeoutMs: 5000, intervalMs: 50 });
    return;
  }
  try {
    await waitFor(() => !isRunning(p), { what: `${p.component} (pid ${p.pid}) to exit`, timeoutMs: graceMs, intervalMs: 100 });
  } catch {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    await waitFor(() => !isRunning(p), { what: `${p.component} (pid ${p.pid}) to die after SIGKILL`, timeoutMs: 5000, intervalMs: 50 });
  }
}
