/**
 * The canonical bytes of a ledger record: RFC 8785 (JSON Canonicalization Scheme) over a
 * plain JSON value. Why JCS and not the protobuf encoding the rest of the protocol uses:
 * protobuf's wire form is not canonical (field order, unknown fields and default values
 * may be written differently by two versions of a generator, and a newer control plane
 * adding a field changes how an older verifier re-encodes it), while JCS is fixed by an
 * RFC: object members sorted by their UTF-16 code units, no whitespace, strings escaped
 * as ECMAScript's JSON.stringify escapes them, numbers written as ECMAScript writes them.
 * Any verifier in any language with a JCS library gets the same bytes from the same
 * record, whatever version wrote it. Our records hold only strings, booleans, null,
 * arrays, objects and safe integers, where JCS is exactly JSON.stringify with sorted keys;
 * anything else (a float, NaN, undefined, a Date) is refused rather than encoded loosely.
 */

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

export class NotCanonicalizableError extends Error {
  override readonly name = "NotCanonicalizableError";
}

function write(value: unknown, path: string, out: string[]): void {
  if (value === null || typeof value === "boolean") {
    out.push(String(value));
  } else if (typeof value === "string") {
    out.push(JSON.stringify(value));
  } else if (typeof value === "number") {
    // Integers only: JCS numbers are IEEE doubles written the ECMAScript way, which is
    // exact for safe integers and a trap for anything else.
    if (!Number.isSafeInteger(value)) throw new NotCanonicalizableError(`${path}: ${value} is not a safe integer`);
    out.push(String(value));
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      write(item, `${path}[${i}]`, out);
    });
    out.push("]");
  } else if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    // The default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 asks.
    const keys = Object.keys(value).sort();
    out.push("{");
    keys.forEach((key, i) => {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) throw new NotCanonicalizableError(`${path}.${key} is undefined`);
      if (i > 0) out.push(",");
      out.push(JSON.stringify(key), ":");
      write(v, `${path}.${key}`, out);
    });
    out.push("}");
  } else {
    throw new NotCanonicalizableError(`${path}: a ${typeof value} has no JSON form`);
  }
}

/** RFC 8785 text of `value`; throws NotCanonicalizableError for what JSON cannot hold exactly. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, "$", out);
  return out.join("");
}

const encoder = new TextEncoder();

export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
