import { status } from "@grpc/grpc-js";
import { FederationError } from "../errors.ts";

/**
 * A refusal the gRPC layer reports with `code` and `message` as they are: the message
 * is for the caller (an agent's log, a kubectl user), so it says what was wrong.
 */
export class RpcError extends FederationError {
  override readonly name = "RpcError";
  readonly code: status;
  constructor(code: status, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { retryable: options.retryable ?? false, cause: options.cause });
    this.code = code;
  }
}

/** Why a bootstrap token was refused; each case has its own message. */
export const TokenRefusal = {
  Malformed: "Malformed",
  Unknown: "Unknown",
  WrongSecret: "WrongSecret",
  WrongCluster: "WrongCluster",
  Expired: "Expired",
  Used: "Used",
} as const;
export type TokenRefusal = (typeof TokenRefusal)[keyof typeof TokenRefusal];

/** A bootstrap token was refused. Terminal: the agent needs a new token from the admin. */
export class BootstrapTokenError extends RpcError {
  readonly refusal: TokenRefusal;
  constructor(refusal: TokenRefusal, message: string) {
    super(refusal === TokenRefusal.WrongCluster ? status.PERMISSION_DENIED : status.UNAUTHENTICATED, message);
    this.refusal = refusal;
  }
}
