import { execFile, spawnSync } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../env.ts";

const exec = promisify(execFile);

/**
 * podman as these machines need it (PITFALLS.md, "Containers on these machines"): runc,
 * since crun fails on the hybrid cgroup hierarchy, and ulimits within the sandbox's hard
 * limits, since the defaults fail in setrlimit.
 */
const GLOBAL = ["--runtime", "runc"];
export const SANDBOX_ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"];

/** Why podman cannot be used here, or undefined when it can. */
export function podmanMissing(): string | undefined {
  const r = spawnSync("podman", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return `podman is not installed (${r.error?.message ?? r.stderr.trim()}); as root: apt-get install -y podman buildah runc`;
  return undefined;
}

export async function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    return (await exec("podman", [...GLOBAL, ...args], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`podman ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** hack/build-image: the image reference (its last stdout line) and the progress it printed. */
export async function buildImage(): Promise<{ ref: string; log: string; ms: number }> {
  const t0 = performance.now();
  const { stdout, stderr } = await exec(path.join(repoRoot, "hack", "build-image"), [], { encoding: "utf8", timeout: 15 * 60_000, maxBuffer: 16 << 20 });
  const ref = stdout.trim().split("\n").at(-1) ?? "";
  if (!/^localhost\/sovereign-federation:\d+\.\d+\.\d+.*-[0-9a-f]{12}$/.test(ref)) throw new Error(`hack/build-image printed no image reference: ${stdout}\n${stderr}`);
  return { ref, log: stderr, ms: performance.now() - t0 };
}

/** The fields of `podman inspect` this suite reads. */
export interface ContainerInspect {
  Id: string;
  ImageName: string;
  Config: { User: string; Entrypoint?: string | string[]; WorkingDir: string };
  HostConfig: { ReadonlyRootfs: boolean; NetworkMode: string; CapDrop?: string[]; SecurityOpt?: string[] | null };
  State: { Running: boolean; ExitCode: number; Status: string };
}

export async function inspectContainer(name: string): Promise<ContainerInspect> {
  const [c] = JSON.parse(await podman(["container", "inspect", name])) as ContainerInspect[];
  if (!c) throw new Error(`podman inspect ${name} returned nothing`);
  return c;
}

/** Runs `node -e script` inside the running container; resolves its exit status and output. */
export async function execNode(name: string, script: string): Promise<{ status: number; output: string }> {
  try {
    const { stdout, stderr } = await exec("podman", [...GLOBAL, "exec", name, "/usr/local/bin/node", "-e", script], { encoding: "utf8", timeout: 30_000 });
    return { status: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as Error & { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === "number" ? e.code : -1, output: (e.stdout ?? "") + (e.stderr ?? "") + e.message };
  }
}

export async function containerLogs(name: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec("podman", [...GLOBAL, "logs", "--tail", "40", name], { encoding: "utf8", timeout: 30_000 });
    return stdout + stderr;
  } catch (err) {
    return `(no logs: ${(err as Error).message})`;
  }
}
