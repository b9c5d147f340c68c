// The plugin's side of the control plane's gRPC API: a narrow client the commands use,
// opened from the connection options, and gRPC failures turned into messages that say
// which address failed and what to check.
import { status } from "@grpc/grpc-js";
import type { ExportRequest, ExportResponse, QueryRequest, QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import type { ExplainRequest, ExplainResponse } from "../../gen/sovereign/v1/federation.ts";
import { InputError } from "../../scheduler/index.ts";
import { CommandError, FailureKind } from "./errors.ts";
import type { GrpcConnection } from "./live-options.ts";

/** What explain and audit need; FederationGrpcClient has it. */
export interface ControlPlaneClient {
  explain(req: ExplainRequest): Promise<ExplainResponse>;
  queryAudit(req: QueryRequest): AsyncIterable<QueryResponse>;
  /** The signed ledger (audit export, audit keys); absent on clients that cannot export. */
  exportLedger?(req: ExportRequest): AsyncIterable<ExportResponse>;
  close(): void;
}

export interface ClientParams {
  address: string;
  tls: { caPem: string; certPem: string; keyPem: string };
  serverName: string | undefined;
}

/** Reads the PEM files named by the flags; an unreadable file is the command line's fault. */
export async function clientParamsOf(conn: GrpcConnection, readFile: (path: string) => Promise<string>): Promise<ClientParams> {
  const read = async (flag: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new InputError(`--${flag}: cannot read "${path}": ${(err as Error).message}`);
    }
  };
  const [caPem, certPem, keyPem] = await Promise.all([read("grpc-ca", conn.caFile), read("grpc-cert", conn.certFile), read("grpc-key", conn.keyFile)]);
  return { address: conn.address, tls: { caPem, certPem, keyPem }, serverName: conn.serverName };
}

function isServiceError(err: unknown): err is { code: number; details: string } {
  return typeof (err as { code?: unknown })?.code === "number" && typeof (err as { details?: unknown })?.details === "string";
}

/**
 * A gRPC failure as the user should read it. NOT_FOUND carries the server's own words
 * (they name the workload); an unreachable endpoint names the address and the checks.
 */
export function controlPlaneError(err: unknown, conn: Pick<GrpcConnection, "address">, method: string): unknown {
  if (!isServiceError(err)) return err;
  const where = `the control plane's gRPC endpoint at ${conn.address}`;
  switch (err.code) {
    case status.NOT_FOUND:
      return new CommandError(FailureKind.NotFound, err.details, { cause: err });
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new CommandError(FailureKind.Unreachable,
        `cannot reach ${where} (${status[err.code]}: ${err.details}). Check that the control plane runs and serves gRPC there ` +
        `(--grpc-address or SOVEREIGN_GRPC_ADDRESS), that --grpc-ca is the CA that signed its certificate, and --grpc-server-name if the certificate's name differs from the address`,
        { cause: err });
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new CommandError(FailureKind.Refused, `${where} refused ${method}: ${err.details}. ${method} needs the federation's admin client certificate (--grpc-cert, --grpc-key)`, { cause: err });
    default:
      return new CommandError(FailureKind.Refused, `${where} answered ${method} with ${status[err.code] ?? err.code}: ${err.details}`, { retryable: err.code === status.RESOURCE_EXHAUSTED || err.code === status.FAILED_PRECONDITION, cause: err });
  }
}
