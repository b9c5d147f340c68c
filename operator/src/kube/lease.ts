import { CoordinationV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1Lease } from "@kubernetes/client-node";
import type { LeaseLock, LeaseRecord, ObservedLease } from "../runtime/index.ts";
import { NotFoundError, toKubeError } from "./errors.ts";

/**
 * A coordination.k8s.io/v1 Lease as the elector's lock (client-go's resourcelock.LeaseLock).
 * `update` sends the resourceVersion it read, so a concurrent writer makes it fail with
 * ConflictError instead of overwriting a lease someone else just took.
 */
export class KubeLeaseLock implements LeaseLock {
  readonly description: string;
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;

  constructor(params: { kubeConfig: KubeConfig; namespace: string; name: string }) {
    this.#api = params.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#namespace = params.namespace;
    this.#name = params.name;
    this.description = `${params.namespace}/${params.name}`;
  }

  async get(signal: AbortSignal): Promise<ObservedLease | undefined> {
    try {
      const lease = await abortable(this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name }), signal);
      return { record: toRecord(lease), resourceVersion: lease.metadata?.resourceVersion ?? "" };
    } catch (err) {
      const e = toKubeError(err, `Lease ${this.description}`);
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  async create(record: LeaseRecord, signal: AbortSignal): Promise<void> {
    try {
      await abortable(this.#api.createNamespacedLease({ namespace: this.#namespace, body: this.#toLease(record) }), signal);
    } catch (err) {
      throw toKubeError(err, `Lease ${this.description}`);
    }
  }

  async update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<void> {
    try {
      await abortable(this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: this.#toLease(record, resourceVersion) }), signal);
    } catch (err) {
      throw toKubeError(err, `Lease ${this.description}`);
    }
  }

  #toLease(r: LeaseRecord, resourceVersion?: string): V1Lease {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.#name, namespace: this.#namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: r.leaseDurationSeconds,
        acquireTime: microTime(r.acquireTime),
        renewTime: microTime(r.renewTime),
        leaseTransitions: r.leaseTransitions,
      },
    };
  }
}

/**
 * Lease times are MicroTime, which the API server parses with exactly six fractional
 * digits; client-node sends a Date as toISOString() (three) and gets 400. Its serializer
 * passes a string through untouched, hence the cast.
 */
function microTime(d: Date): Date {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z") as unknown as Date;
}

function toRecord(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? "",
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: new Date(s.acquireTime ?? 0),
    renewTime: new Date(s.renewTime ?? 0),
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

/**
 * client-node's generated calls take no AbortSignal: stop waiting for the answer when the
 * elector's deadline passes. A write that still lands later only delays successors, which
 * judge expiry by when they saw the record change.
 */
function abortable<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    call.then(
      (v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
      (e) => { signal.removeEventListener("abort", onAbort); reject(e); },
    );
  });
}
