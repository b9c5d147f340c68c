/**
 * A CLI's view of the API server, as kubectl has it: the kubeconfig from --kubeconfig, else
 * every file of $KUBECONFIG merged by kubectl's rules (the first file to name a cluster,
 * user or context wins; the first current-context wins), else ~/.kube/config; --context
 * picks another context; the context's namespace is the default namespace. And a raw
 * JSON client for paths no generated client knows (the aggregated query API).
 */
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import type { RequestOptions } from "node:https";
import { homedir } from "node:os";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** The client configuration type, for callers that hand one from a loader to a client. */
export type { KubeConfig };
import { KubeError, NotFoundError, toKubeError } from "./errors.ts";

export interface ClientConfig {
  kubeConfig: KubeConfig;
  /** The context in use. */
  context: string;
  /** The context's namespace, when it sets one. */
  namespace: string | undefined;
  /** Where it came from, for messages: "kubeconfig FILE" or "$KUBECONFIG (a:b)". */
  origin: string;
}

/** The kubeconfig given, kubectl's way; throws KubeError(status 0) naming what is wrong. */
export function loadClientConfig(opts: { kubeconfig?: string | undefined; context?: string | undefined; environment: Readonly<Record<string, string | undefined>>; home?: string }): ClientConfig {
  const fromEnv = (opts.environment.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean);
  const files = opts.kubeconfig ? [opts.kubeconfig] : fromEnv.length ? fromEnv : [path.join(opts.home ?? homedir(), ".kube", "config")];
  const origin = opts.kubeconfig ? `kubeconfig ${opts.kubeconfig}` : fromEnv.length ? `$KUBECONFIG (${fromEnv.join(path.delimiter)})` : `kubeconfig ${files[0]}`;
  const merged = new KubeConfig();
  const seen = { clusters: new Set<string>(), users: new Set<string>(), contexts: new Set<string>() };
  let current = "";
  let loaded = 0;
  for (const file of files) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      // kubectl skips a missing file of $KUBECONFIG, but not a named --kubeconfig.
      if (!opts.kubeconfig && fromEnv.length > 1 && (err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new KubeError(`cannot load kubeconfig ${file}: ${(err as Error).message}`, { status: 0, retryable: false, cause: err });
    }
    loaded++;
    current ||= kc.getCurrentContext() ?? "";
    for (const c of kc.getClusters().filter((c) => firstOf(seen.clusters, c.name))) merged.addCluster(c);
    for (const u of kc.getUsers().filter((u) => firstOf(seen.users, u.name))) merged.addUser(u);
    for (const x of kc.getContexts().filter((x) => firstOf(seen.contexts, x.name))) merged.addContext(x);
  }
  if (loaded === 0) throw new KubeError(`no kubeconfig could be read from ${origin}`, { status: 0, retryable: false });
  const context = opts.context ?? current;
  if (!context) throw new KubeError(`${origin} sets no current-context; pick one with --context`, { status: 0, retryable: false });
  const ctx = merged.getContextObject(context);
  if (!ctx) throw new KubeError(`context "${context}" is not in ${origin} (contexts: ${merged.getContexts().map((c) => c.name).join(", ") || "none"})`, { status: 0, retryable: false });
  merged.setCurrentContext(context);
  return { kubeConfig: merged, context, namespace: ctx.namespace || undefined, origin };
}

/** True the first time `name` is seen: kubectl keeps the first file's entry of a name. */
function firstOf(seen: Set<string>, name: string): boolean {
  if (seen.has(name)) return false;
  seen.add(name);
  return true;
}

/** The Status a Kubernetes API server answers with on failure. */
interface StatusBody { kind?: string; message?: string; reason?: string; code?: number }

/** An API server refused (403, 404, 503...): its Status's message and reason kept for the caller. */
export class ApiStatusError extends KubeError {
  override readonly name = "ApiStatusError";
  readonly reason: string;
  constructor(params: { status: number; reason: string; message: string }) {
    super(params.message, { status: params.status, retryable: params.status === 429 || params.status >= 500 });
    this.reason = params.reason;
  }
}

/** GET/POST of JSON on any path of the API server, with the kubeconfig's credentials. */
export class KubeRawClient {
  readonly #kc: KubeConfig;
  readonly #timeoutMs: number;

  constructor(params: { kubeConfig: KubeConfig; timeoutMs?: number }) {
    this.#kc = params.kubeConfig;
    this.#timeoutMs = params.timeoutMs ?? 30_000;
  }

  /** The server URL of the current context, for messages. */
  get server(): string {
    return this.#kc.getCurrentCluster()?.server ?? "";
  }

  async getJson(pathAndQuery: string): Promise<unknown> {
    return this.#send("GET", pathAndQuery, undefined);
  }

  async postJson(pathAndQuery: string, body: unknown): Promise<unknown> {
    return this.#send("POST", pathAndQuery, JSON.stringify(body));
  }

  /**
   * A GET whose answer (JSON Lines) is read line by line as it arrives, never held whole.
   * A response cut before its end (the server failed mid-way) throws, so a short answer is
   * never taken for a whole one.
   */
  async *getLines(pathAndQuery: string): AsyncGenerator<string> {
    const server = this.#kc.getCurrentCluster()?.server;
    if (!server) throw new KubeError("the kubeconfig's current context names no cluster server", { status: 0, retryable: false });
    const url = new URL(pathAndQuery, server.endsWith("/") ? server : `${server}/`);
    const opts: RequestOptions = { method: "GET", headers: { accept: "application/jsonl, application/json" } };
    await this.#kc.applyToHTTPSOptions(opts);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { ...opts, timeout: this.#timeoutMs }, resolve);
      req.on("timeout", () => req.destroy(new Error(`nothing received for ${this.#timeoutMs} ms`)));
      req.on("error", (err) => reject(new KubeError(`GET ${url.pathname}: ${err.message}`, { status: 0, retryable: true, cause: err })));
      req.end();
    });
    res.setEncoding("utf8");
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      let text = "";
      for await (const chunk of res) text += chunk as string;
      let s: StatusBody;
      try {
        s = JSON.parse(text) as StatusBody;
      } catch {
        s = {};
      }
      throw new ApiStatusError({ status, reason: s.reason ?? "", message: s.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`) });
    }
    let rest = "";
    let lines = 0;
    try {
      for await (const chunk of res) {
        const parts = (rest + (chunk as string)).split("\n");
        rest = parts.pop()!;
        for (const line of parts) {
          lines++;
          yield line;
        }
      }
    } catch (err) {
      throw new KubeError(`GET ${url.pathname}: the answer was cut after ${lines} lines: ${(err as Error).message}`, { status: 0, retryable: true, cause: err });
    }
    if (!res.complete) throw new KubeError(`GET ${url.pathname}: the answer was cut after ${lines} lines`, { status: 0, retryable: true });
    if (rest) yield rest;
  }

  async #send(method: string, pathAndQuery: string, body: string | undefined): Promise<unknown> {
    const server = this.#kc.getCurrentCluster()?.server;
    if (!server) throw new KubeError("the kubeconfig's current context names no cluster server", { status: 0, retryable: false });
    const url = new URL(pathAndQuery, server.endsWith("/") ? server : `${server}/`);
    const opts: RequestOptions = { method, headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) } };
    await this.#kc.applyToHTTPSOptions(opts);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { ...opts, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on("error", (err) => reject(new KubeError(`${method} ${url.pathname}: ${err.message}`, { status: 0, retryable: true, cause: err })));
      req.end(body);
    });
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed;
    const s = (parsed ?? {}) as StatusBody;
    throw new ApiStatusError({ status, reason: s.reason ?? "", message: s.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`) });
  }
}

/**
 * kube-apiserver's request-header settings as it publishes them for aggregated servers
 * (kube-system/extension-apiserver-authentication, readable through the bootstrap Role
 * extension-apiserver-authentication-reader). Undefined when the cluster has no
 * aggregation layer configured.
 */
export async function readRequestHeaderAuth(kubeConfig: KubeConfig): Promise<{ clientCaPem: string; allowedNames: string[]; usernameHeaders: string[]; groupHeaders: string[] } | undefined> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let data: Record<string, string>;
  try {
    data = (await core.readNamespacedConfigMap({ namespace: "kube-system", name: "extension-apiserver-authentication" })).data ?? {};
  } catch (err) {
    const e = toKubeError(err, "ConfigMap kube-system/extension-apiserver-authentication");
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
  const ca = data["requestheader-client-ca-file"];
  if (!ca) return undefined;
  const list = (key: string): string[] => {
    try {
      const v = JSON.parse(data[key] ?? "[]") as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    } catch {
      return [];
    }
  };
  return { clientCaPem: ca, allowedNames: list("requestheader-allowed-names"), usernameHeaders: list("requestheader-username-headers"), groupHeaders: list("requestheader-group-headers") };
}
