/**
 * The aggregated API `query.sovereignty.eu/v1alpha1`: Explain, Audit and Simulate served
 * over HTTPS to kube-apiserver's aggregator, which has already authenticated the caller
 * and let RBAC authorize the subresource before proxying. This server therefore trusts a
 * request only when it arrives over a connection whose client certificate the
 * request-header CA signed and whose CN is an allowed front-proxy name (kube-apiserver's
 * --proxy-client-cert-file); only then are the X-Remote-User/-Group headers the caller's.
 * Everything else is refused with 401. The answers come from the same handlers the gRPC
 * server runs (federation/grpc: decisions.ts, audit.ts), never from a copy.
 */
import { createServer } from "node:https";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { pino } from "pino";
import type { Logger } from "pino";
import { QueryResponse } from "../gen/sovereign/v1/audit.ts";
import { Decision } from "../gen/sovereign/v1/federation.ts";
import { toServiceError } from "../federation/grpc/index.ts";
import type { FederationHandlers } from "../federation/grpc/index.ts";
import { ALL_LEDGERS, apiGroup, apiGroupList, apiResourceList, LEDGER_MEDIA_TYPE, openApiV2, openApiV3Root, QUERY_GROUP, QUERY_GROUP_VERSION, QUERY_RESOURCES, QUERY_VERSION } from "./discovery.ts";
import { httpCodeOf, statusBody } from "./status.ts";

/** kube-apiserver's request-header authentication, as its extension-apiserver-authentication ConfigMap publishes it. */
export interface RequestHeaderAuth {
  /** PEM of the CA that signs the front proxy's client certificate (--requestheader-client-ca-file). */
  clientCaPem: string;
  /** CNs the front proxy's certificate may carry; empty: any the CA signed (--requestheader-allowed-names). */
  allowedNames: readonly string[];
  usernameHeaders: readonly string[];
  groupHeaders: readonly string[];
}

export const DEFAULT_REQUEST_HEADERS = { usernameHeaders: ["X-Remote-User"], groupHeaders: ["X-Remote-Group"] } as const;

export interface QueryServerParams {
  tls: { certPem: string | Buffer; keyPem: string | Buffer };
  requestHeader: RequestHeaderAuth;
  handlers: FederationHandlers;
  log?: Logger;
  /** An audit answer without ?limit holds at most this many records (default 10,000). */
  maxAuditRecords?: number;
  /** Largest Simulation body accepted (default 4 MiB, as the gRPC Simulate). */
  maxBodyBytes?: number;
}

/** A refusal with its HTTP code and message; anything else thrown is mapped by toServiceError. */
class HttpError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

const WORKLOAD_PATH = new RegExp(`^/apis/${QUERY_GROUP.replaceAll(".", "\\.")}/${QUERY_VERSION}/namespaces/([^/]+)/sovereignworkloads/([^/]+)/([^/]+)$`);
const SIMULATIONS_PATH = `/apis/${QUERY_GROUP}/${QUERY_VERSION}/simulations`;
const LEDGER_PATH = new RegExp(`^/apis/${QUERY_GROUP.replaceAll(".", "\\.")}/${QUERY_VERSION}/ledgers/([^/]+)/([^/]+)$`);

function parseInstant(name: string, text: string | null): Date | undefined {
  if (text === null || text === "") return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw new HttpError(400, `${name}: "${text}" is not an RFC 3339 time`);
  return new Date(ms);
}

function parseLimit(text: string | null): number | undefined {
  if (text === null || text === "") return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new HttpError(400, `limit: "${text}" is not a whole number from 1 to 999999999`);
  return Number(text);
}

export class QueryApiServer {
  readonly #server: Server;
  readonly #params: QueryServerParams;
  readonly #log: Logger;
  readonly #allowed: ReadonlySet<string>;

  constructor(params: QueryServerParams) {
    this.#params = params;
    this.#log = params.log ?? pino({ level: "silent" });
    this.#allowed = new Set(params.requestHeader.allowedNames);
    this.#server = createServer({
      cert: params.tls.certPem,
      key: params.tls.keyPem,
      ca: params.requestHeader.clientCaPem,
      // Asked for, verified against the request-header CA, but not required at the TLS
      // layer: a health probe connects without one, and a refused query gets a Status.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
    }, (req, res) => void this.#serve(req, res));
  }

  /** Binds to `address` ("127.0.0.1:0" picks a port) and returns the port. */
  start(address: string): Promise<number> {
    const i = address.lastIndexOf(":");
    const host = address.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(address.slice(i + 1));
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        const bound = this.#server.address();
        resolve(typeof bound === "object" && bound ? bound.port : port);
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** The front proxy's identity, or why the request is not from it. */
  #frontProxy(req: IncomingMessage): { proxy: string } | { refused: string } {
    const socket = req.socket as TLSSocket;
    const cert = socket.getPeerCertificate?.();
    if (!cert || Object.keys(cert).length === 0) return { refused: "no client certificate: only kube-apiserver's front proxy may call this API" };
    if (!socket.authorized) return { refused: `client certificate not signed by the request-header CA (${String(socket.authorizationError)})` };
    const cn = typeof cert.subject?.CN === "string" ? cert.subject.CN : "";
    if (this.#allowed.size > 0 && !this.#allowed.has(cn)) return { refused: `client certificate CN "${cn}" is not an allowed front-proxy name` };
    return { proxy: cn };
  }

  #caller(req: IncomingMessage): { user: string; groups: string[] } {
    const first = (names: readonly string[]) => names.map((n) => req.headers[n.toLowerCase()]).find((v) => v !== undefined);
    const user = first(this.#params.requestHeader.usernameHeaders);
    const groups = this.#params.requestHeader.groupHeaders.flatMap((n) => {
      const v = req.headers[n.toLowerCase()];
      return v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((g) => g.split(","));
    });
    return { user: (Array.isArray(user) ? user[0] : user) ?? "", groups: groups.map((g) => g.trim()).filter(Boolean) };
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "https://query.invalid");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz" || path === "/livez")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const from = this.#frontProxy(req);
    if ("refused" in from) {
      this.#log.warn({ path, remote: req.socket.remoteAddress, reason: from.refused }, "query refused: not from the front proxy");
      send(res, 401, statusBody(401, from.refused));
      return;
    }
    const caller = this.#caller(req);
    const ledger = LEDGER_PATH.exec(path);
    if (ledger && req.method === "GET") {
      await this.#ledger({ res, url, name: decodeURIComponent(ledger[1]!), sub: ledger[2]!, caller, path, started });
      return;
    }
    try {
      const body = await this.#route(req, url, path);
      send(res, 200, body);
      // The aggregator polls discovery every few seconds: only the queries are worth an info line.
      const level = path.includes("/sovereignworkloads/") || path.endsWith("/simulations") ? "info" : "debug";
      this.#log[level]({ method: req.method, path, user: caller.user, groups: caller.groups, ms: Math.round(performance.now() - started) }, "query served");
    } catch (err) {
      const { code, message } = this.#failure(err, path);
      send(res, code, statusBody(code, message));
      this.#log.info({ method: req.method, path, user: caller.user, groups: caller.groups, code, message }, "query refused");
    }
  }

  #failure(err: unknown, path: string): { code: number; message: string } {
    if (err instanceof HttpError) return { code: err.code, message: err.message };
    const e = toServiceError(err, this.#log, path);
    return { code: httpCodeOf(e.code ?? 13), message: e.details ?? "internal error" };
  }

  async #route(req: IncomingMessage, url: URL, path: string): Promise<unknown> {
    const { handlers } = this.#params;
    if (req.method === "GET") {
      switch (path) {
        case "/apis": return apiGroupList();
        case `/apis/${QUERY_GROUP}`: return apiGroup();
        case `/apis/${QUERY_GROUP_VERSION}`: return apiResourceList();
        case "/openapi/v2": return openApiV2();
        case "/openapi/v3": return openApiV3Root();
      }
      const m = WORKLOAD_PATH.exec(path);
      if (m) {
        const [namespace, name, sub] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3]!];
        const metadata = { name, namespace };
        if (sub === QUERY_RESOURCES.explain.subresource) {
          const explain = need(handlers.explain, "explain");
          const { decision } = await explain({ namespace, name, now: parseInstant("now", url.searchParams.get("now")) });
          return { apiVersion: QUERY_GROUP_VERSION, kind: QUERY_RESOURCES.explain.kind, metadata, decision: decision ? Decision.toJSON(decision) : null };
        }
        if (sub === QUERY_RESOURCES.audit.subresource) return this.#audit({ url, namespace, name, metadata });
        throw new HttpError(404, `sovereignworkloads/${sub} is not served by ${QUERY_GROUP_VERSION} (explain, audit)`);
      }
    } else if (req.method === "POST" && path === SIMULATIONS_PATH) {
      const simulate = need(handlers.simulate, "simulations");
      const spec = simulationSpec(await readJson(req, this.#params.maxBodyBytes ?? 4 * 1024 * 1024));
      const { decisions } = await simulate({ documents: spec.documents, now: spec.now });
      return { apiVersion: QUERY_GROUP_VERSION, kind: QUERY_RESOURCES.simulate.kind, metadata: {}, spec: { documents: spec.documents, ...(spec.now ? { now: spec.now.toISOString() } : {}) }, status: { decisions: decisions.map((d) => Decision.toJSON(d)) } };
    } else if (WORKLOAD_PATH.test(path) || path === SIMULATIONS_PATH || LEDGER_PATH.test(path)) {
      throw new HttpError(405, `${req.method} is not allowed on ${path}`);
    }
    throw new HttpError(404, `the server could not find the requested resource (${path})`);
  }

  /**
   * `ledgers/NAME/export` and `ledgers/NAME/keys`: the signed ledger as JSON Lines,
   * written as the control plane reads it (never held whole in memory: a write waits for
   * the connection to drain), so an export of any size streams through kube-apiserver's
   * proxy. A failure before the first line is a Status with its code; after it, the
   * connection is cut, so a client never takes a short export for a whole one (and the
   * chain heads at its end would show it to verify anyway).
   */
  async #ledger(p: { res: ServerResponse; url: URL; name: string; sub: string; caller: { user: string; groups: string[] }; path: string; started: number }): Promise<void> {
    const { res } = p;
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    let lines = 0;
    let iterator: AsyncIterator<{ line: string }> | undefined;
    let first: IteratorResult<{ line: string }>;
    try {
      if (p.sub !== QUERY_RESOURCES.export.subresource && p.sub !== QUERY_RESOURCES.keys.subresource) {
        throw new HttpError(404, `ledgers/${p.sub} is not served by ${QUERY_GROUP_VERSION} (export, keys)`);
      }
      if (p.name !== ALL_LEDGERS && !/^[A-Z]{2}$/.test(p.name)) {
        throw new HttpError(404, `ledger "${p.name}" does not exist: a ledger is a country's chain (ISO 3166-1 alpha-2 in capitals, FR) or "${ALL_LEDGERS}"`);
      }
      const exportLedger = need(this.#params.handlers.exportLedger, "ledgers");
      const keysOnly = p.sub === QUERY_RESOURCES.keys.subresource;
      const since = keysOnly ? undefined : parseInstant("since", p.url.searchParams.get("since"));
      const until = keysOnly ? undefined : parseInstant("until", p.url.searchParams.get("until"));
      if (since && until && since > until) throw new HttpError(400, "since is after until");
      iterator = exportLedger({ country: p.name === ALL_LEDGERS ? "" : p.name, range: since || until ? { since, until } : undefined, keysOnly }, abort.signal)[Symbol.asyncIterator]();
      first = await iterator.next();
    } catch (err) {
      abort.abort();
      const { code, message } = this.#failure(err, p.path);
      send(res, code, statusBody(code, message));
      this.#log.info({ path: p.path, user: p.caller.user, groups: p.caller.groups, code, message }, "query refused");
      return;
    }
    res.writeHead(200, { "content-type": LEDGER_MEDIA_TYPE, "cache-control": "no-store" });
    res.flushHeaders();
    try {
      for (let r = first; !r.done; r = await iterator.next()) {
        if (abort.signal.aborted) break;
        lines++;
        if (!res.write(`${r.value.line}\n`)) await drained(res);
      }
      if (abort.signal.aborted) {
        this.#log.info({ path: p.path, user: p.caller.user, lines }, "ledger export ended by the client");
        return;
      }
      res.end();
      this.#log.info({ path: p.path, user: p.caller.user, groups: p.caller.groups, lines, ms: Math.round(performance.now() - p.started) }, "ledger exported");
    } catch (err) {
      this.#log.error({ err, path: p.path, user: p.caller.user, lines }, "ledger export failed after it began: cutting the response");
      res.destroy(err as Error);
    } finally {
      abort.abort();
      await iterator.return?.().catch(() => undefined);
    }
  }

  async #audit(p: { url: URL; namespace: string; name: string; metadata: { name: string; namespace: string } }): Promise<unknown> {
    const audit = need(this.#params.handlers.audit, "audit");
    const q = p.url.searchParams;
    const since = parseInstant("since", q.get("since"));
    const until = parseInstant("until", q.get("until"));
    const limit = parseLimit(q.get("limit"));
    const cap = this.#params.maxAuditRecords ?? 10_000;
    const records: unknown[] = [];
    const abort = new AbortController();
    let truncated = false;
    try {
      for await (const item of audit({
        namespace: p.namespace, name: p.name, cluster: q.get("cluster") ?? "", country: q.get("country") ?? "",
        range: since || until ? { since, until } : undefined, limit: limit ?? cap + 1,
      }, abort.signal)) {
        if (limit === undefined && records.length >= cap) {
          truncated = true;
          break;
        }
        records.push(QueryResponse.toJSON(item));
      }
    } finally {
      abort.abort();
    }
    return { apiVersion: QUERY_GROUP_VERSION, kind: QUERY_RESOURCES.audit.kind, metadata: p.metadata, records, ...(truncated ? { truncated: true } : {}) };
  }
}

function need<T>(handler: T | undefined, what: string): T {
  if (!handler) throw new HttpError(501, `${what} is not served by this control plane`);
  return handler;
}

/** Resolves when `res` can take more, or is closed (the client went: the caller's signal says so). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text) }).end(text);
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/.test(type)) throw new HttpError(415, `a Simulation is sent as application/json, not ${type || "no content type"}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `a Simulation is at most ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`);
  }
}

/** `{apiVersion, kind: Simulation, spec: {documents: [YAML...], now?}}`, checked field by field. */
export function simulationSpec(body: unknown): { documents: string[]; now: Date | undefined } {
  const b = body as { apiVersion?: unknown; kind?: unknown; spec?: { documents?: unknown; now?: unknown } } | null;
  if (typeof b !== "object" || b === null) throw new HttpError(400, "the body must be a Simulation object");
  if (b.apiVersion !== QUERY_GROUP_VERSION || b.kind !== QUERY_RESOURCES.simulate.kind) {
    throw new HttpError(400, `apiVersion/kind: must be ${QUERY_GROUP_VERSION}/${QUERY_RESOURCES.simulate.kind}`);
  }
  const docs = b.spec?.documents;
  if (!Array.isArray(docs) || !docs.every((d) => typeof d === "string")) throw new HttpError(422, "spec.documents: a list of YAML documents (strings) is required");
  const now = b.spec?.now;
  if (now !== undefined && typeof now !== "string") throw new HttpError(422, "spec.now: an RFC 3339 time");
  return { documents: docs as string[], now: parseInstant("spec.now", now ?? null) };
}
