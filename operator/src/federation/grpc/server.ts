import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, ServiceError } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import { pino } from "pino";
import type { Logger } from "pino";
import { AuditServiceService } from "../../gen/sovereign/v1/audit.ts";
import type { AuditServiceServer, ExportRequest, ExportResponse, QueryRequest, QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import { FederationServiceService } from "../../gen/sovereign/v1/federation.ts";
import type {
  ExplainRequest, ExplainResponse, FederationServiceServer, JoinRequest, JoinResponse, SimulateRequest, SimulateResponse,
} from "../../gen/sovereign/v1/federation.ts";
import { KubeError } from "../../kube/index.ts";
import { FederationError, InvalidNameError } from "../errors.ts";
import { RpcError } from "./errors.ts";
import { handleJoin } from "./join.ts";
import type { JoinDeps } from "./join.ts";
import { identifyByOrganization } from "./peer.ts";
import type { IdentifyPeer, Peer } from "./peer.ts";
import { decodedRequest, withTolerantDecoding } from "./undecodable.ts";

/** What the control plane serves besides Join; each may be left out (UNIMPLEMENTED). */
export interface FederationHandlers {
  explain?: (req: ExplainRequest) => Promise<ExplainResponse>;
  simulate?: (req: SimulateRequest) => Promise<SimulateResponse>;
  /** Matching audit records, oldest first; the stream ends when the query is answered. */
  audit?: (req: QueryRequest, signal: AbortSignal) => AsyncIterable<QueryResponse>;
  /** The signed ledger's lines, chain by chain, then a signed head per chain. */
  exportLedger?: (req: ExportRequest, signal: AbortSignal) => AsyncIterable<ExportResponse>;
}

export interface TlsFiles {
  /** CA that signs client certificates; clients without one it signed are refused. */
  caPem: string | Buffer;
  certPem: string | Buffer;
  keyPem: string | Buffer;
}

/** Turns anything thrown by a handler into a status the caller can act on, without leaking internals. */
export function toServiceError(err: unknown, log: Logger, method: string): Partial<ServiceError> {
  if (err instanceof RpcError) return { code: err.code, details: err.message };
  if (err instanceof InvalidNameError) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof KubeError && err.retryable) {
    log.warn({ err, method }, "host API unavailable");
    return { code: status.UNAVAILABLE, details: "the host cluster's API is unavailable; retry" };
  }
  if (err instanceof FederationError && err.retryable) {
    log.warn({ err, method }, "transient failure");
    return { code: status.UNAVAILABLE, details: `${err.message}; retry` };
  }
  log.error({ err, method }, "request failed");
  return { code: status.INTERNAL, details: "internal error; see the control plane's log" };
}

/**
 * The control plane's gRPC endpoint: FederationService (Join, Explain, Simulate) and
 * AuditService (Query), over TLS that REQUIRES a client certificate signed by our CA.
 */
export class FederationGrpcServer {
  readonly #server = new Server();
  readonly #tls: TlsFiles;
  readonly #log: Logger;
  readonly #identify: IdentifyPeer;
  readonly #abort = new AbortController();

  constructor(params: { tls: TlsFiles; join: JoinDeps; handlers?: FederationHandlers; log?: Logger; identify?: IdentifyPeer }) {
    this.#tls = params.tls;
    this.#log = params.log ?? pino({ level: "silent" });
    this.#identify = params.identify ?? identifyByOrganization;
    const handlers = params.handlers ?? {};
    const join = params.join;

    const federation: FederationServiceServer = {
      join: this.#unary<JoinRequest, JoinResponse>("Join", "member", (req, peer) => handleJoin(req, peer, join)),
      explain: this.#unary<ExplainRequest, ExplainResponse>("Explain", "admin", (req) => need(handlers.explain, "Explain")(req)),
      simulate: this.#unary<SimulateRequest, SimulateResponse>("Simulate", "admin", (req) => need(handlers.simulate, "Simulate")(req)),
    };
    const audit: AuditServiceServer = {
      query: (call: ServerWritableStream<QueryRequest, QueryResponse>) => void this.#stream(call, handlers.audit, "Audit.Query"),
      export: (call: ServerWritableStream<ExportRequest, ExportResponse>) => void this.#stream(call, handlers.exportLedger, "Audit.Export"),
    };
    this.#server.addService(withTolerantDecoding(FederationServiceService), federation);
    this.#server.addService(withTolerantDecoding(AuditServiceService), audit);
  }

  #peer(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } }): Peer | undefined {
    return this.#identify(call.getAuthContext().sslPeerCertificate);
  }

  #authorize(peer: Peer | undefined, role: "member" | "admin", method: string): void {
    // Join checks the member against the requested cluster itself; here only the role.
    if (peer?.kind !== role) {
      throw new RpcError(status.PERMISSION_DENIED, `${method} needs ${role === "admin" ? "an admin" : "a member"} client certificate; this one is ${peer?.subject ?? "not a federation identity"}`);
    }
  }

  #unary<Req, Res>(method: string, role: "member" | "admin", handle: (req: Req, peer: Peer | undefined) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const started = performance.now();
      const peer = this.#peer(call);
      (async () => {
        // Join accepts any peer here and refuses precisely (NOT_FOUND before PERMISSION_DENIED).
        if (role === "admin") this.#authorize(peer, role, method);
        return handle(decodedRequest(call.request), peer);
      })().then(
        (res) => {
          this.#log.debug({ method, peer: peer?.subject, ms: performance.now() - started }, "rpc ok");
          callback(null, res);
        },
        (err: unknown) => {
          const e = toServiceError(err, this.#log, method);
          this.#log.info({ method, peer: peer?.subject, code: e.code, details: e.details }, "rpc refused");
          callback(e, null);
        },
      );
    };
  }

  async #stream<Req, Res>(call: ServerWritableStream<Req, Res>, handler: ((req: Req, signal: AbortSignal) => AsyncIterable<Res>) | undefined, method: string): Promise<void> {
    const aborted = new AbortController();
    call.on("cancelled", () => aborted.abort());
    this.#abort.signal.addEventListener("abort", () => aborted.abort(), { once: true });
    try {
      this.#authorize(this.#peer(call), "admin", method);
      for await (const item of need(handler, method)(decodedRequest(call.request), aborted.signal)) {
        if (aborted.signal.aborted) break;
        // Respect backpressure: a slow auditor must not make us buffer the whole trail.
        if (!call.write(item)) await new Promise((resolve) => call.once("drain", resolve));
      }
      call.end();
    } catch (err) {
      // grpc-js turns an 'error' event on a server stream into the call's final status.
      const e = toServiceError(err, this.#log, method);
      call.emit("error", Object.assign(new Error(e.details), e));
    }
  }

  /** Binds to `address` ("127.0.0.1:0" picks a port) and returns the port. */
  start(address: string): Promise<number> {
    const credentials = ServerCredentials.createSsl(
      Buffer.from(this.#tls.caPem),
      [{ private_key: Buffer.from(this.#tls.keyPem), cert_chain: Buffer.from(this.#tls.certPem) }],
      // Without true, clients that present no certificate are accepted (the default is false).
      true,
    );
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  /** Lets calls in flight finish for up to `graceMs`, then cuts them. */
  async stop(graceMs = 5000): Promise<void> {
    this.#abort.abort();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function need<T>(handler: T | undefined, method: string): T {
  if (!handler) throw new RpcError(status.UNIMPLEMENTED, `${method} is not served by this control plane`);
  return handler;
}
