// A Kubernetes resource.Quantity reader. The only library that has one here is
// @kubernetes/client-node, which only operator/src/kube may import (lint), and the
// scheduler needs just two readings of a quantity: millicores and bytes. The grammar is
// the API's (api/formats.ts QUANTITY), so that what the API server admits is exactly what
// this reads.
import { QUANTITY as QUANTITY_PATTERN } from "../api/index.ts";

/** A quantity that cannot be read: the input is wrong, retrying will not help. */
export class InvalidQuantityError extends Error {
  override readonly name = "InvalidQuantityError";
  readonly retryable = false;
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown) {
    super(`${field}: ${JSON.stringify(value)} is not a resource quantity (e.g. "500m", "2", "256Gi", "1e3")`);
    this.field = field;
    this.value = value;
  }
}

const QUANTITY = new RegExp(QUANTITY_PATTERN);

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
/** Decimal suffixes as powers of ten: "1.5e-3" is read by Number() correctly rounded, where 1.5 * 1e-3 is not always. */
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** The quantity's value in base units (cores, bytes, pods). Numbers are accepted as YAML gives them (`cpu: 2`). */
export function parseQuantity(value: unknown, field: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidQuantityError(field, value);
    return value;
  }
  if (typeof value !== "string") throw new InvalidQuantityError(field, value);
  // No trimming: the API server refuses " 1", so reading it here would accept what it does not.
  const m = QUANTITY.exec(value);
  if (!m) throw new InvalidQuantityError(field, value);
  if (m[2]) return Number(m[1]) * BINARY[m[2]]!;
  if (m[3]) return Number(`${m[1]}e${DECIMAL[m[3]]!}`);
  if (m[4]) return Number(`${m[1]}e${m[4]}`);
  return Number(m[1]);
}

/**
 * Which way to round to whole millicores or bytes. Kubernetes rounds a request up
 * (Quantity.MilliValue / Value); rounding what a cluster has down keeps the scheduler
 * from finding room that the member's kube-scheduler would not. The epsilon absorbs
 * float noise such as 0.1 * 1000.
 */
export type Rounding = "up" | "down";

function round(x: number, rounding: Rounding): number {
  const nearest = Math.round(x);
  if (Math.abs(x - nearest) < 1e-9 * Math.max(1, Math.abs(x))) return nearest;
  return rounding === "up" ? Math.ceil(x) : Math.floor(x);
}

export interface QuantityInput {
  value: unknown;
  /** Where the value is, for the error message: "spec.template.spec.containers[0].resources.requests.cpu". */
  field: string;
  rounding: Rounding;
}

export function milliCores({ value, field, rounding }: QuantityInput): number {
  return round(parseQuantity(value, field) * 1000, rounding);
}

export function bytes({ value, field, rounding }: QuantityInput): number {
  return round(parseQuantity(value, field), rounding);
}

/** Pods are counted, never fractional: "1100" or "1.1k". */
export function podCount({ value, field, rounding }: QuantityInput): number {
  return round(parseQuantity(value, field), rounding);
}
