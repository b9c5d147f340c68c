import { readFileSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";

/** Where the running local federation is, as `hack/federation up` recorded it. */
export interface FederationEnv {
  root: string;
  hostKubeconfig: string;
  memberKubeconfigs: Record<string, string>;
  natsUrl: string;
  natsMonitorUrl: string;
  /** Every other line of .federation/env (NATS_CA, NATS_CREDS_FR, GRPC_CA, ...). */
  vars: Record<string, string>;
  /** Paths of the binaries hack/build-tools built (KUBECTL_BIN, HELM_BIN, ...). */
  tools: Record<string, string>;
}

export const repoRoot = path.resolve(import.meta.dirname, "../..");

function parseShellAssignments(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    vars[m[1]!] = m[2]!.replace(/^['"]|['"]$/g, "");
  }
  return vars;
}

/** The federation's state folder: FEDERATION_STATE_DIR (as hack/federation reads it), else <root>/.federation. */
export function federationStateDir(root = repoRoot): string {
  return path.resolve(process.env.FEDERATION_STATE_DIR ?? path.join(root, ".federation"));
}

export function readFederationEnv(root = repoRoot): FederationEnv {
  const vars = parseShellAssignments(readFileSync(path.join(federationStateDir(root), "env"), "utf8"));
  const tools = parseShellAssignments(execFileSync(path.join(root, "hack", "build-tools"), ["--print"], { encoding: "utf8" }));
  const members: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    const m = /^([A-Z0-9]+)_KUBECONFIG$/.exec(k);
    if (m && m[1] !== "HOST") members[m[1]!.toLowerCase()] = v;
  }
  const need = (k: string) => {
    const v = vars[k];
    if (!v) throw new Error(`.federation/env has no ${k}`);
    return v;
  };
  return {
    root,
    hostKubeconfig: need("HOST_KUBECONFIG"),
    memberKubeconfigs: members,
    natsUrl: need("NATS_URL"),
    natsMonitorUrl: need("NATS_MONITOR_URL"),
    vars,
    tools,
  };
}
