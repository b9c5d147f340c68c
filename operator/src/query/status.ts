/**
 * Errors as Kubernetes clients read them: a metav1.Status with the HTTP code, a reason
 * kubectl and client libraries know, and the message for the user.
 */
import { status as grpcStatus } from "@grpc/grpc-js";

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string; retryAfterSeconds?: number };
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  500: "InternalError",
  501: "NotImplemented",
  503: "ServiceUnavailable",
};

export function statusBody(code: number, message: string, details?: StatusBody["details"]): StatusBody {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: REASONS[code] ?? "Unknown", code, ...(details ? { details } : {}) };
}

/** The HTTP code for a gRPC status the shared handlers (federation/grpc) refuse with. */
export function httpCodeOf(code: number): number {
  switch (code) {
    case grpcStatus.INVALID_ARGUMENT: return 400;
    case grpcStatus.NOT_FOUND: return 404;
    case grpcStatus.ALREADY_EXISTS: return 409;
    case grpcStatus.FAILED_PRECONDITION: return 409;
    case grpcStatus.PERMISSION_DENIED: return 403;
    case grpcStatus.UNAUTHENTICATED: return 401;
    case grpcStatus.UNIMPLEMENTED: return 501;
    case grpcStatus.UNAVAILABLE: return 503;
    case grpcStatus.DEADLINE_EXCEEDED: return 503;
    case grpcStatus.RESOURCE_EXHAUSTED: return 503;
    default: return 500;
  }
}
