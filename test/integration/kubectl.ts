import { spawnSync } from "node:child_process";

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against one cluster of the local federation. */
export function kubectl(opts: { bin: string; kubeconfig: string; args: string[]; input?: string }): KubectlResult {
  const r = spawnSync(opts.bin, ["--kubeconfig", opts.kubeconfig, ...opts.args], {
    input: opts.input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Like kubectl(), but throws with kubectl's stderr when it fails. */
export function kubectlOk(opts: { bin: string; kubeconfig: string; args: string[]; input?: string }): string {
  const r = kubectl(opts);
  if (r.status !== 0) throw new Error(`kubectl ${opts.args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}
