/**
 * Every secret value a local federation run used, read from its state folder, and a scan
 * of log files for any of them. Secrets: the API servers' bearer tokens (tokens.csv,
 * kubeconfigs, *.token files), NATS nkey seeds (pki/nats/*.nk, and any SU... seed in a
 * creds file), and private keys (the base64 body of every PEM "PRIVATE KEY" block).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface Secret {
  kind: "token" | "nkey-seed" | "private-key";
  /** The file it was read from, relative to the state folder. */
  source: string;
  value: string;
}

/** Folders of the state that hold data, not configuration: never read for secrets. */
const DATA_DIRS = new Set(["logs", "jetstream", "etcd", "data"]);
const MAX_FILE = 1024 * 1024;

function walk(dir: string, skip: (rel: string) => boolean, root = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(root, full);
    if (skip(rel)) continue;
    if (entry.isDirectory()) out.push(...walk(full, skip, root));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The secrets of one file's text (exported for the scanner's own positive controls). */
export function secretsInText(text: string, source: string): Secret[] {
  const out: Secret[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----([\s\S]*?)-----END \1PRIVATE KEY-----/g)) {
    const lines = m[2]!.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^[A-Za-z0-9+/=]+$/.test(l));
    // Each full line is a needle of its own (a log may print the key with its newlines escaped).
    for (const l of lines) if (l.length >= 32) out.push({ kind: "private-key", source, value: l });
    const body = lines.join("");
    if (body.length >= 32) out.push({ kind: "private-key", source, value: body });
  }
  for (const m of text.matchAll(/\bS[UAONC][A-Z2-7]{56}\b/g)) out.push({ kind: "nkey-seed", source, value: m[0] });
  for (const m of text.matchAll(/^\s*token:\s*["']?([^\s"']+)/gm)) out.push({ kind: "token", source, value: m[1]! });
  // A kubeconfig's client key, base64 of its PEM.
  for (const m of text.matchAll(/^\s*client-key-data:\s*["']?([A-Za-z0-9+/=]+)/gm)) out.push({ kind: "private-key", source, value: m[1]! });
  return out;
}

/** Every secret under `stateDir` (the federation's .federation/), deduplicated. */
export function collectSecrets(stateDir: string): Secret[] {
  const files = walk(stateDir, (rel) => DATA_DIRS.has(rel.split(path.sep)[0]!));
  const out: Secret[] = [];
  for (const file of files) {
    if (statSync(file).size > MAX_FILE) continue;
    const source = path.relative(stateDir, file);
    const text = readFileSync(file, "utf8");
    if (path.basename(file) === "tokens.csv") {
      // kube-apiserver's --token-auth-file: token,user,uid,"groups"
      for (const line of text.split("\n")) {
        const token = line.split(",")[0]?.trim();
        if (token) out.push({ kind: "token", source, value: token });
      }
    }
    if (file.endsWith(".token")) out.push({ kind: "token", source, value: text.trim() });
    out.push(...secretsInText(text, source));
  }
  const seen = new Set<string>();
  return out.filter((s) => s.value.length >= 16 && !seen.has(s.value) && seen.add(s.value));
}

export interface Leak {
  file: string;
  line: number;
  secret: Secret;
}

/** Every line of every file under `logDir` that holds one of `secrets`. */
export function findLeaks(params: { secrets: readonly Secret[]; logDir: string }): { leaks: Leak[]; files: number; lines: number } {
  const leaks: Leak[] = [];
  let files = 0;
  let lines = 0;
  for (const file of walk(params.logDir, () => false)) {
    files++;
    const text = readFileSync(file, "utf8");
    const all = text.split("\n");
    lines += all.length;
    // Most lines hold no secret: look for each secret in the whole file first.
    for (const secret of params.secrets) {
      if (!text.includes(secret.value)) continue;
      all.forEach((l, i) => {
        if (l.includes(secret.value)) leaks.push({ file: path.relative(params.logDir, file), line: i + 1, secret });
      });
    }
  }
  return { leaks, files, lines };
}
