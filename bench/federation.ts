// `npm run bench -- federation`: how long a warm bring-up of the local federation takes
// (tools already built) and how much memory the running federation holds. It runs a
// second federation in a temporary folder on its own ports, so a running one is untouched.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_MEMBERS, defaultAgents, freeBasePort, repoRoot, type RecordedProcess } from "../hack/lib/federation/index.ts";

const TARGET_SECONDS = 60;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
}

export async function run(): Promise<void> {
  const federation = path.join(repoRoot, "hack", "federation");
  const tools = spawnSync(path.join(repoRoot, "hack", "build-tools"), { stdio: "inherit" });
  if (tools.status !== 0) throw new Error("hack/build-tools failed");
  // Above the Linux ephemeral range (32768-60999): an outgoing connection cannot take a port between the check and the start.
  const base = await freeBasePort({ from: 61000, members: [...DEFAULT_MEMBERS] });
  console.log(`federation benchmark: the default shape (host + ${DEFAULT_MEMBERS.join(", ")}; control plane and agents on ${defaultAgents(DEFAULT_MEMBERS).join(", ")} where their entry files exist), 3 kwok nodes each, ${ROUNDS} cold-state bring-ups on ports ${base}+ (${os.cpus().length} cores)`);
  const times: number[] = [];
  let memory: { component: string; mib: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "federation-bench-"));
    try {
      const t0 = performance.now();
      const up = spawnSync(federation, ["up", "--state-dir", stateDir, "--base-port", String(base)], { encoding: "utf8" });
      const seconds = (performance.now() - t0) / 1000;
      if (up.status !== 0) throw new Error(`hack/federation up failed:\n${up.stdout}\n${up.stderr}`);
      times.push(seconds);
      const state = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: RecordedProcess[] };
      memory = state.processes.map((p) => ({ component: p.component, mib: rssMiB(p.pid) }));
      console.log(`  round ${round}/${ROUNDS}: ready in ${seconds.toFixed(1)} s, ${state.processes.length} processes`);
    } finally {
      spawnSync(federation, ["down", "--state-dir", stateDir], { stdio: "ignore" });
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log("");
  console.log("memory of the running federation (RSS, after bring-up):");
  for (const m of memory) console.log(`  ${m.component.padEnd(38)} ${m.mib.toFixed(0).padStart(5)} MiB`);
  const byKind = new Map<string, number>();
  for (const m of memory) {
    const kind = m.component.startsWith("agent-") ? "agent" : m.component.split(" ")[0]!;
    byKind.set(kind, (byKind.get(kind) ?? 0) + m.mib);
  }
  console.log(`  by kind: ${[...byKind].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")} (MiB)`);
  console.log(`  ${"total".padEnd(38)} ${memory.reduce((s, m) => s + m.mib, 0).toFixed(0).padStart(5)} MiB`);
  console.log("");
  console.log(`bring-up from empty state, tools built: median ${median.toFixed(1)} s, worst ${sorted.at(-1)!.toFixed(1)} s`);
  console.log(`target <= ${TARGET_SECONDS} s: median/target = ${(median / TARGET_SECONDS).toFixed(2)} (${median <= TARGET_SECONDS ? "met" : "NOT met"})`);
}
