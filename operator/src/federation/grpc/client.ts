import { credentials, Metadata, status } from "@grpc/grpc-js";
import type { CallOptions, ChannelOptions, ClientUnaryCall, ServiceError } from "@grpc/grpc-js";
import { AuditServiceClient } from "../../gen/sovereign/v1/audit.ts";
import type { ExportRequest, ExportResponse, QueryRequest, QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import { FederationServiceClient } from "../../gen/sovereign/v1/federation.ts";
import type {
  ExplainRequest, ExplainResponse, JoinRequest, JoinResponse, SimulateRequest, SimulateResponse,
} from "../../gen/sovereign/v1/federation.ts";

export interface ClientTls {
  caPem: string | Buffer;
  /** Client certificate and key; the server refuses the connection without them. */
  certPem?: string | Buffer;
  keyPem?: string | Buffer;
}

type UnaryMethod<Req, Res> = (
  req: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void,
) => ClientUnaryCall;

/** A typed, promise-based client for FederationService and AuditService. */
export class FederationGrpcClient {
  readonly federation: FederationServiceClient;
  readonly audit: AuditServiceClient;
  readonly #deadlineMs: number;

  constructor(params: {
    address: string;
    tls: ClientTls;
    deadlineMs?: number;
    /**
     * The name the server certificate is checked against, when it differs from the
     * address's host; e.g. "localhost" for 127.0.0.1 (TLS SNI may not carry an IP).
     */
    serverName?: string;
    options?: ChannelOptions;
  }) {
    const creds = credentials.createSsl(
      Buffer.from(params.tls.caPem),
      params.tls.keyPem ? Buffer.from(params.tls.keyPem) : null,
      params.tls.certPem ? Buffer.from(params.tls.certPem) : null,
    );
    const options: ChannelOptions = { ...params.options, ...(params.serverName ? { "grpc.ssl_target_name_override": params.serverName } : {}) };
    this.federation = new FederationServiceClient(params.address, creds, options);
    this.audit = new AuditServiceClient(params.address, creds, options);
    this.#deadlineMs = params.deadlineMs ?? 10_000;
  }

  #unary<Req, Res>(method: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(req, new Metadata(), { deadline: Date.now() + this.#deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  join(req: JoinRequest): Promise<JoinResponse> {
    return this.#unary<JoinRequest, JoinResponse>(this.federation.join.bind(this.federation), req);
  }

  explain(req: ExplainRequest): Promise<ExplainResponse> {
    return this.#unary<ExplainRequest, ExplainResponse>(this.federation.explain.bind(this.federation), req);
  }

  simulate(req: SimulateRequest): Promise<SimulateResponse> {
    return this.#unary<SimulateRequest, SimulateResponse>(this.federation.simulate.bind(this.federation), req);
  }

  /** The audit records matching `req`, oldest first. */
  async *queryAudit(req: QueryRequest): AsyncGenerator<QueryResponse> {
    const stream = this.audit.query(req, { deadline: Date.now() + this.#deadlineMs });
    for await (const item of stream) yield item as QueryResponse;
  }

  /**
   * The signed ledger, line by line. Its own deadline: an export streams the whole trail,
   * which takes longer than a question does.
   */
  async *exportLedger(req: ExportRequest, options: { deadlineMs?: number } = {}): AsyncGenerator<ExportResponse> {
    const stream = this.audit.export(req, { deadline: Date.now() + (options.deadlineMs ?? 30 * 60_000) });
    for await (const item of stream) yield item as ExportResponse;
  }

  close(): void {
    this.federation.close();
    this.audit.close();
  }
}

/** True for the status codes where retrying the same call can help. */
export function isRetryableStatus(code: status): boolean {
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.RESOURCE_EXHAUSTED;
}
