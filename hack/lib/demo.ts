import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/**
 * `npm run demo`: one command from a fresh clone to a running local federation with
 * the sovereignty API installed, the examples applied, and each workload's placement
 * explained. Every step prints what it does.
 */
const root = path.resolve(import.meta.dirname, "../..");
const step = (n: number, total: number, what: string) => console.log(`\n=== [${n}/${total}] ${what}`);

function run(cmd: string, args: string[], opts: { input?: string } = {}): void {
  execFileSync(cmd, args, { stdio: [opts.input === undefined ? "ignore" : "pipe", "inherit", "inherit"], input: opts.input, cwd: root });
}

function envVars(): Record<string, string> {
  const out = execFileSync("bash", ["-c", `. "${path.join(root, ".federation", "env")}" && env`], { encoding: "utf8" });
  return Object.fromEntries(out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

const total = 5;
step(1, total, "local federation: etcd, kube-apiserver (host, fr, de), kube-scheduler, kube-controller-manager, kwok, nats-server");
run(path.join(root, "hack", "federation"), ["up"]);
const env = envVars();
const kubectl = env.KUBECTL!;
const host = ["--kubeconfig", env.HOST_KUBECONFIG!];

const crdFiles = existsSync(path.join(root, "crds")) ? readdirSync(path.join(root, "crds")).filter((f) => /\.ya?ml$/.test(f)) : [];
step(2, total, "install the sovereignty.eu CRDs on the host");
if (crdFiles.length === 0) {
  console.log("(no CRDs in crds/ yet)");
} else {
  run(kubectl, [...host, "apply", "--server-side", "-f", path.join(root, "crds")]);
  const names = ["memberclusters", "residencypolicies", "sovereignworkloads"].map((n) => `crd/${n}.sovereignty.eu`);
  run(kubectl, [...host, "wait", "--for=condition=Established", "--timeout=60s", ...names]);
}

const examples = path.join(root, "crds", "examples");
step(3, total, "apply the examples (member clusters, residency policies, workloads)");
if (crdFiles.length && existsSync(examples)) {
  run(kubectl, [...host, "apply", "--server-side", "-f", examples]);
  run(kubectl, [...host, "get", "sovereign", "-A"]);
} else {
  console.log("(no examples yet)");
}

step(4, total, "where each workload's replicas go, and why (kubectl sovereign simulate)");
const plugin = path.join(root, "bin", "kubectl-sovereign");
if (existsSync(plugin) && existsSync(examples)) {
  const files = readdirSync(examples).filter((f) => /\.ya?ml$/.test(f)).sort().flatMap((f) => ["-f", path.join(examples, f)]);
  const r = spawnSync(plugin, ["simulate", ...files, "-o", "table"], { stdio: "inherit", cwd: root });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
} else {
  console.log("(kubectl-sovereign is not built yet)");
}

step(5, total, "federation status");
run(path.join(root, "hack", "federation"), ["status"]);
console.log(`\nUse it yourself:\n  . .federation/env\n  $KUBECTL --kubeconfig $HOST_KUBECONFIG get sovereign -A\n  $KUBECTL --kubeconfig $FR_KUBECONFIG get nodes -L topology.kubernetes.io/zone\nStop it: hack/federation down`);
