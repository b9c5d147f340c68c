import { status } from "@grpc/grpc-js";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { RpcError } from "./errors.ts";

/**
 * A request body that is not the method's protobuf message. grpc-js answers a
 * deserializer that throws with INTERNAL ("Error deserializing request"), which reads as
 * the server's fault and tells the caller nothing; the services are registered with a
 * deserializer that returns this instead, and the handler refuses it as the caller's
 * fault (INVALID_ARGUMENT) once it knows who the caller is.
 */
export class UndecodableRequest {
  readonly method: string;
  readonly reason: string;
  constructor(method: string, reason: string) {
    this.method = method;
    this.reason = reason;
  }
}

/** `definition` with every method's request deserializer returning UndecodableRequest instead of throwing. */
export function withTolerantDecoding<D extends ServiceDefinition>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, m]) => [
      name,
      {
        ...m,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return m.requestDeserialize(bytes);
          } catch (err) {
            return new UndecodableRequest(m.path, err instanceof Error ? err.message : String(err));
          }
        },
      },
    ]),
  ) as D;
}

/** The decoded request, or INVALID_ARGUMENT naming it when its body was not the method's message. */
export function decodedRequest<Req>(request: Req | UndecodableRequest): Req {
  if (request instanceof UndecodableRequest) {
    throw new RpcError(status.INVALID_ARGUMENT, `request: the body is not a valid protobuf message for ${request.method} (${request.reason})`);
  }
  return request;
}
