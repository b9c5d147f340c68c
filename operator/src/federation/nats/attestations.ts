/**
 * Member attestations over NATS: the member's signing key (its NATS nkey, which is
 * ed25519), the control plane's consumer of what members attest, and the index of which
 * key the control plane declared in the ledger for each member.
 */
import type { JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { fromPublic, fromSeed } from "@nats-io/nkeys";
import { SigningKey } from "../../ledger/index.ts";
import { FederationError } from "../errors.ts";
import type { FederationClient, NatsSecret } from "./jetstream.ts";
import { streams, subjects } from "./protocol.ts";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding, as nkeys write it. */
function base32Decode(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const i = BASE32.indexOf(c);
    if (i < 0) throw new FederationError(`not base32: ${JSON.stringify(c)}`, { retryable: false });
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** The user seed ("SU...") of a NATS secret: a bare seed, or the seed block of a creds file. */
export function seedOf(secret: NatsSecret): string {
  const text = "nkeySeed" in secret ? secret.nkeySeed : secret.creds;
  const seed = text.split("\n").map((l) => l.trim()).find((l) => /^SU[A-Z2-7]+$/.test(l));
  if (!seed) throw new FederationError("the NATS secret holds no nkey user seed (SU...)", { retryable: false });
  return seed;
}

/**
 * The member's attestation key: its NATS nkey. An nkey seed is base32 of two prefix bytes,
 * the raw 32-byte ed25519 seed and a CRC-16; nkeys checks the prefix and CRC, and the key
 * built from the raw seed must have the nkey's public key, or it is refused.
 */
export function memberSigningKey(secret: NatsSecret): SigningKey {
  const seed = seedOf(secret);
  let publicNkey: string;
  try {
    publicNkey = fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch (err) {
    throw new FederationError(`the NATS nkey seed is not valid: ${(err as Error).message}`, { retryable: false, cause: err });
  }
  const key = SigningKey.fromSeed(base32Decode(seed).subarray(2, 34));
  if (key.publicKey !== publicKeyOfNkey(publicNkey)) throw new FederationError("the NATS nkey seed does not decode to its own public key", { retryable: false });
  return key;
}

/** The raw ed25519 public key, hex, of a public user nkey ("U..."): one prefix byte, 32 bytes, CRC-16. */
export function publicKeyOfNkey(publicNkey: string): string {
  try {
    fromPublic(publicNkey);
  } catch (err) {
    throw new FederationError(`${JSON.stringify(publicNkey.slice(0, 12))}… is not a public nkey: ${(err as Error).message}`, { retryable: false, cause: err });
  }
  if (!publicNkey.startsWith("U")) throw new FederationError(`public nkey ${publicNkey.slice(0, 12)}… is not a user's (U...)`, { retryable: false });
  return Buffer.from(base32Decode(publicNkey).subarray(1, 33)).toString("hex");
}

/** One attestation as the stream delivered it. Ack once appended (or once refused for good: term). */
export interface AttestationDelivery {
  subject: string;
  data: Uint8Array;
  streamSequence: number;
  ack(): Promise<void>;
  term(reason: string): void;
  /** Deliver again later: appending failed for a reason that may pass. */
  nak(delayMs: number): void;
}

/** The control plane's durable consumer of attestations, until `signal` aborts. */
export async function* attestationDeliveries(params: { client: FederationClient; signal: AbortSignal }): AsyncGenerator<AttestationDelivery> {
  const consumer = await params.client.js.consumers.get(streams.attestations, streams.attestationsConsumer);
  const messages = await consumer.consume({ max_messages: 1 });
  const stop = () => void messages.stop();
  params.signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const m of messages as AsyncIterable<JsMsg>) {
      yield {
        subject: m.subject, data: m.data, streamSequence: m.seq,
        ack: async () => void (await m.ackAck()),
        term: (reason) => m.term(reason),
        nak: (delayMs) => m.nak(delayMs),
      };
    }
  } finally {
    params.signal.removeEventListener("abort", stop);
    messages.stop();
  }
}

/** What the control plane declared for a member: the key, and where (chain and record). */
export interface DeclaredMemberKey {
  keyId: string;
  chain: string;
  recordId: string;
}

/** The newest declaration per member, kept on its own subject (newest only) of the member-keys stream. */
export class MemberKeyIndex {
  readonly #client: FederationClient;
  #jsm: Promise<JetStreamManager> | undefined;

  constructor(params: { client: FederationClient }) {
    this.#client = params.client;
  }

  async get(member: string): Promise<DeclaredMemberKey | undefined> {
    this.#jsm ??= this.#client.manager();
    const m = await (await this.#jsm).streams.getMessage(streams.memberKeys, { last_by_subj: subjects.memberKey(member) });
    if (!m) return undefined;
    return JSON.parse(new TextDecoder().decode(m.data)) as DeclaredMemberKey;
  }

  async put(member: string, declared: DeclaredMemberKey): Promise<void> {
    await this.#client.js.publish(subjects.memberKey(member), JSON.stringify(declared), { timeout: 5000 });
  }
}

