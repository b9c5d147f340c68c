import path from "node:path";
import { execFileSync } from "node:child_process";
import { parseEnv, readLocalFederationEnv, type LocalFederationEnv } from "../../hack/lib/federation/index.ts";

/**
 * Where the running local federation is, as `hack/federation up` recorded it: the typed
 * reader of hack/lib/federation/env.ts, plus the repo root and the built tools' paths.
 * memberKubeconfigs is keyed by member name (`fr`, `de`, `ovh-par-1`, ...).
 */
export interface FederationEnv extends LocalFederationEnv {
  root: string;
  /** Paths of the binaries hack/build-tools built (KUBECTL_BIN, HELM_BIN, ...). */
  tools: Record<string, string>;
}

export const repoRoot = path.resolve(import.meta.dirname, "../..");

/** The federation's state folder: FEDERATION_STATE_DIR (as hack/federation reads it), else <root>/.federation. */
export function federationStateDir(root = repoRoot): string {
  return path.resolve(process.env.FEDERATION_STATE_DIR ?? path.join(root, ".federation"));
}

export function readFederationEnv(root = repoRoot): FederationEnv {
  const env = readLocalFederationEnv(federationStateDir(root));
  const tools = parseEnv(execFileSync(path.join(root, "hack", "build-tools"), ["--print"], { encoding: "utf8" }));
  return { ...env, root, tools };
}
