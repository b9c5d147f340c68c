/**
 * ed25519 keys as the ledger uses them (node:crypto). A key is named by its key id, the
 * first 16 bytes of SHA-256 of its raw 32-byte public key, in hex: short enough to print,
 * long enough that no two keys of one federation share it.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";

export class KeyFormatError extends Error {
  override readonly name = "KeyFormatError";
}

const HEX32 = /^[0-9a-f]{64}$/;
// The DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410): the raw key follows it.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
// The DER prefix of an ed25519 PKCS#8 private key (RFC 8410): the raw 32-byte seed follows it.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export function keyIdOf(publicKeyHex: string): string {
  return createHash("sha256").update(Buffer.from(publicKeyHex, "hex")).digest("hex").slice(0, 32);
}

function rawPublicKey(key: KeyObject): string {
  const der = key.export({ format: "der", type: "spki" });
  return der.subarray(SPKI_PREFIX.length).toString("hex");
}

/** A public key from its raw hex form; throws KeyFormatError for anything but 32 bytes of hex. */
export function publicKeyFromHex(hex: string): KeyObject {
  if (!HEX32.test(hex)) throw new KeyFormatError("an ed25519 public key is 64 lowercase hex digits");
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(hex, "hex")]), format: "der", type: "spki" });
}

/** True when `signatureHex` is `publicKey`'s ed25519 signature of `data`. */
export function verifySignature(publicKey: KeyObject, data: Uint8Array, signatureHex: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signatureHex)) return false;
  return verify(null, data, publicKey, Buffer.from(signatureHex, "hex"));
}

/** A private signing key with its public half and id. */
export class SigningKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly #private: KeyObject;

  private constructor(privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== "ed25519") throw new KeyFormatError(`the signing key is ${privateKey.asymmetricKeyType ?? "not an asymmetric key"}, not ed25519`);
    this.#private = privateKey;
    this.publicKey = rawPublicKey(createPublicKey(privateKey));
    this.keyId = keyIdOf(this.publicKey);
  }

  static generate(): SigningKey {
    return new SigningKey(generateKeyPairSync("ed25519").privateKey);
  }

  /** From a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), as `openssl genpkey -algorithm ed25519` writes it. */
  static fromPem(pem: string): SigningKey {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: "pem" });
    } catch (err) {
      throw new KeyFormatError(`the signing key is not a PEM private key: ${(err as Error).message}`);
    }
    return new SigningKey(key);
  }

  /**
   * From a raw 32-byte ed25519 seed (RFC 8032's private key): what a NATS nkey seed holds
   * once its base32 and prefix are taken off, so a member signs with its NATS identity.
   */
  static fromSeed(seed: Uint8Array): SigningKey {
    if (seed.length !== 32) throw new KeyFormatError(`an ed25519 seed is 32 bytes, not ${seed.length}`);
    return new SigningKey(createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" }));
  }

  toPem(): string {
    return this.#private.export({ format: "pem", type: "pkcs8" }).toString();
  }

  sign(data: Uint8Array): string {
    return sign(null, data, this.#private).toString("hex");
  }
}
