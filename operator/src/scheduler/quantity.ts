// A Kubernetes resource.Quantity reader. The only library that has one here is
// @kubernetes/client-node, which only operator/src/kube may import (lint), and the
// scheduler needs just two readings of a quantity: millicores and bytes.

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

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value in base units (cores, bytes, pods). Numbers are accepted as YAML gives them (`cpu: 2`). */
export function parseQuantity(value: unknown, field: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidQuantityError(field, value);
    return value;
  }
  if (typeof value !== "string") throw new InvalidQuantityError(field, value);
  const m = QUANTITY.exec(value.trim());
  if (!m) throw new InvalidQuantityError(field, value);
  const n = Number(m[1]);
  if (m[2]) return n * BINARY[m[2]]!;
  if (m[3]) return n * DECIMAL[m[3]]!;
  if (m[4]) return n * 10 ** Number(m[4]);
  return n;
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
