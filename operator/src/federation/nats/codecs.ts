/**
 * Protobuf codecs for every message that crosses NATS, from the generated ts-proto
 * code. Decoding failures become DecodeError naming the subject, so a poison message is
 * terminated rather than redelivered forever.
 */
import { AuditRecord } from "../../gen/sovereign/v1/audit.ts";
import { Heartbeat } from "../../gen/sovereign/v1/heartbeat.ts";
import { PlacementIntent } from "../../gen/sovereign/v1/intent.ts";
import { WorkloadStatus } from "../../gen/sovereign/v1/status.ts";
import { DecodeError } from "../errors.ts";

export interface Codec<T> {
  /** Fully-qualified protobuf name, for errors and logs. */
  readonly typeName: string;
  encode(message: T): Uint8Array;
  decode(data: Uint8Array, subject: string): T;
  /** Fills defaults for absent fields, as decode would. */
  create(partial: Partial<T>): T;
}

interface Generated<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

function codec<T>(typeName: string, fns: Generated<T>): Codec<T> {
  return {
    typeName,
    encode: (message) => fns.encode(message).finish(),
    decode: (data, subject) => {
      try {
        return fns.decode(data);
      } catch (err) {
        throw new DecodeError(subject, typeName, err);
      }
    },
    create: (partial) => fns.fromPartial(partial as never),
  };
}

export const codecs = {
  intent: codec<PlacementIntent>("sovereign.v1.PlacementIntent", PlacementIntent),
  heartbeat: codec<Heartbeat>("sovereign.v1.Heartbeat", Heartbeat),
  status: codec<WorkloadStatus>("sovereign.v1.WorkloadStatus", WorkloadStatus),
  audit: codec<AuditRecord>("sovereign.v1.AuditRecord", AuditRecord),
} as const;
