import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig, V1Secret } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/index.ts";
import type { Condition, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { loadKubeConfig } from "./config.ts";
import type { KubeConfigSource } from "./config.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { kubeCall, type RetryPolicy } from "./retry.ts";

/** A Secret as this project uses it: string data (base64 is the client's business). */
export interface Secret {
  name: string;
  namespace: string;
  /** Required on replace: the write fails with ConflictError if the Secret changed since it was read. */
  resourceVersion?: string;
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  data: Record<string, string>;
}

/** What the federation's gRPC server needs from the host cluster, as a narrow interface tests can fake. */
export interface HostApi {
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  createSecret(secret: Secret): Promise<Secret>;
  /** Optimistic write: fails with ConflictError when resourceVersion is stale. */
  replaceSecret(secret: Secret): Promise<Secret>;
  deleteSecret(namespace: string, name: string): Promise<void>;
  getMemberCluster(name: string): Promise<MemberCluster | undefined>;
  listMemberClusters(): Promise<MemberCluster[]>;
  listResidencyPolicies(): Promise<ResidencyPolicy[]>;
  listSovereignWorkloads(): Promise<SovereignWorkload[]>;
  getSovereignWorkload(namespace: string, name: string): Promise<SovereignWorkload | undefined>;
  /** Server-side applies one condition of a MemberCluster's status under `fieldManager`; other conditions stay. */
  applyMemberClusterCondition(name: string, condition: Condition, fieldManager: string): Promise<void>;
}

/** What a write returned that a controller needs: the object's new resourceVersion (to recognise its echo). */
export interface Written {
  resourceVersion?: string | undefined;
}

const written = (obj: unknown): Written => ({ resourceVersion: (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion });

/** A core/v1 Event about one of our objects, as the controllers emit them. */
export interface HostEvent {
  involved: { kind: "SovereignWorkload" | "MemberCluster"; name: string; namespace?: string; uid?: string; resourceVersion?: string };
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  /** e.g. "sovereign-control-plane". */
  reportingController: string;
  reportingInstance: string;
  at: Date;
  /** How many times it happened (an aggregating recorder merges repeats). Default 1. */
  count?: number;
  /**
   * The Event's own name, for an Event that must be recorded once whoever records it and
   * however often (a fact carried by several heartbeats, across control-plane restarts):
   * creating it again is a no-op. Without one the API server generates a name.
   */
  name?: string;
}

/**
 * What the control plane's controllers write on the host: status by server-side apply
 * (one field manager each), finalizers with optimistic concurrency, the mirrored
 * residency labels, and Events. Apart from HostApi so that fakes of the gRPC side need
 * not grow with it.
 */
export interface ControlPlaneHostApi {
  /** Server-side applies `status` of a SovereignWorkload (the status subresource) under `fieldManager`. */
  applySovereignWorkloadStatus(params: { namespace: string; name: string; status: SovereignWorkload["status"]; fieldManager: string }): Promise<Written>;
  /**
   * Writes `status` (a JSON merge patch of the status subresource) only if the object is
   * still at `resourceVersion`: ConflictError otherwise, so a writer working from an older
   * copy never puts back what a newer write replaced.
   */
  updateSovereignWorkloadStatus(params: { namespace: string; name: string; status: SovereignWorkload["status"]; resourceVersion: string; fieldManager: string }): Promise<Written>;
  /** Sets metadata.finalizers, failing with ConflictError when the object changed since `resourceVersion`. */
  setSovereignWorkloadFinalizers(params: { namespace: string; name: string; finalizers: string[]; resourceVersion: string }): Promise<Written>;
  applyMemberClusterStatus(params: { name: string; status: MemberCluster["status"]; fieldManager: string }): Promise<void>;
  /** Server-side applies these labels as `fieldManager`'s: labels it set before and leaves out are removed, others' stay. */
  applyMemberClusterLabels(params: { name: string; labels: Record<string, string>; fieldManager: string }): Promise<void>;
  createEvent(event: HostEvent): Promise<void>;
  /** Creates the namespace if it does not exist (the Lease's, at start-up). */
  ensureNamespace(name: string): Promise<void>;
}

const PLURALS = { MemberCluster: "memberclusters", ResidencyPolicy: "residencypolicies", SovereignWorkload: "sovereignworkloads" } as const;

function fromV1(s: V1Secret): Secret {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, "base64").toString("utf8");
  return {
    name: s.metadata?.name ?? "",
    namespace: s.metadata?.namespace ?? "",
    ...(s.metadata?.resourceVersion ? { resourceVersion: s.metadata.resourceVersion } : {}),
    ...(s.type ? { type: s.type } : {}),
    ...(s.metadata?.labels ? { labels: s.metadata.labels } : {}),
    ...(s.metadata?.annotations ? { annotations: s.metadata.annotations } : {}),
    data,
  };
}

function toV1(s: Secret): V1Secret {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data)) data[k] = Buffer.from(v, "utf8").toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: s.name,
      namespace: s.namespace,
      ...(s.resourceVersion ? { resourceVersion: s.resourceVersion } : {}),
      ...(s.labels ? { labels: s.labels } : {}),
      ...(s.annotations ? { annotations: s.annotations } : {}),
    },
    ...(s.type ? { type: s.type } : {}),
    data,
  };
}

/** The host cluster's API through client-node; the only implementation of HostApi that does I/O. */
export class KubeHostApi implements HostApi, ControlPlaneHostApi {
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;

  readonly #retry: RetryPolicy | undefined;

  constructor(params: ({ kubeConfig: KubeConfig } | { source: KubeConfigSource }) & { retry?: RetryPolicy }) {
    const kc = "kubeConfig" in params ? params.kubeConfig : loadKubeConfig(params.source);
    this.#retry = params.retry;
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
  }

  async #orUndefined<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.#call(what, call);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return kubeCall(what, call, this.#retry);
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    const s = await this.#orUndefined(`Secret ${namespace}/${name}`, () => this.#core.readNamespacedSecret({ namespace, name }));
    return s && fromV1(s);
  }

  async createSecret(secret: Secret): Promise<Secret> {
    return fromV1(await this.#call(`Secret ${secret.namespace}/${secret.name}`, () => this.#core.createNamespacedSecret({ namespace: secret.namespace, body: toV1(secret) })));
  }

  async replaceSecret(secret: Secret): Promise<Secret> {
    return fromV1(await this.#call(`Secret ${secret.namespace}/${secret.name}`, () =>
      this.#core.replaceNamespacedSecret({ namespace: secret.namespace, name: secret.name, body: toV1(secret) })));
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    await this.#orUndefined(`Secret ${namespace}/${name}`, () => this.#core.deleteNamespacedSecret({ namespace, name }));
  }

  getMemberCluster(name: string): Promise<MemberCluster | undefined> {
    return this.#orUndefined(`MemberCluster ${name}`, async () =>
      (await this.#custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURALS.MemberCluster, name })) as MemberCluster);
  }

  async #listCluster<T>(plural: string): Promise<T[]> {
    const list = await this.#call(`list ${plural}`, () => this.#custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural }));
    return ((list as { items?: T[] }).items ?? []);
  }

  listMemberClusters(): Promise<MemberCluster[]> {
    return this.#listCluster<MemberCluster>(PLURALS.MemberCluster);
  }

  listResidencyPolicies(): Promise<ResidencyPolicy[]> {
    return this.#listCluster<ResidencyPolicy>(PLURALS.ResidencyPolicy);
  }

  async listSovereignWorkloads(): Promise<SovereignWorkload[]> {
    const list = await this.#call("list sovereignworkloads", () =>
      this.#custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: PLURALS.SovereignWorkload }));
    return ((list as { items?: SovereignWorkload[] }).items ?? []);
  }

  getSovereignWorkload(namespace: string, name: string): Promise<SovereignWorkload | undefined> {
    return this.#orUndefined(`SovereignWorkload ${namespace}/${name}`, async () =>
      (await this.#custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS.SovereignWorkload, name })) as SovereignWorkload);
  }

  async applyMemberClusterCondition(name: string, condition: Condition, fieldManager: string): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "MemberCluster", metadata: { name }, status: { conditions: [condition] } };
    await this.#call(`MemberCluster ${name} status`, () =>
      this.#custom.patchClusterCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: PLURALS.MemberCluster, name, body, fieldManager, force: true },
        // Server-side apply needs its own content type, or the API server answers 415.
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      ));
  }

  async applySovereignWorkloadStatus({ namespace, name, status, fieldManager }: { namespace: string; name: string; status: SovereignWorkload["status"]; fieldManager: string }): Promise<Written> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "SovereignWorkload", metadata: { name, namespace }, status };
    return written(await this.#call(`SovereignWorkload ${namespace}/${name} status`, () =>
      this.#custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURALS.SovereignWorkload, name, body, fieldManager, force: true },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      )));
  }

  async updateSovereignWorkloadStatus({ namespace, name, status, resourceVersion, fieldManager }: {
    namespace: string; name: string; status: SovereignWorkload["status"]; resourceVersion: string; fieldManager: string;
  }): Promise<Written> {
    // A merge patch carrying resourceVersion is a precondition: 409 if someone wrote in between.
    const body = { metadata: { resourceVersion }, status };
    return written(await this.#call(`SovereignWorkload ${namespace}/${name} status`, () =>
      this.#custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURALS.SovereignWorkload, name, body, fieldManager },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      )));
  }

  async setSovereignWorkloadFinalizers({ namespace, name, finalizers, resourceVersion }: { namespace: string; name: string; finalizers: string[]; resourceVersion: string }): Promise<Written> {
    // A merge patch carrying resourceVersion is a precondition: 409 if someone wrote in between.
    const body = { metadata: { finalizers, resourceVersion } };
    return written(await this.#call(`SovereignWorkload ${namespace}/${name} finalizers`, () =>
      this.#custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURALS.SovereignWorkload, name, body },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      )));
  }

  async applyMemberClusterStatus({ name, status, fieldManager }: { name: string; status: MemberCluster["status"]; fieldManager: string }): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "MemberCluster", metadata: { name }, status };
    await this.#call(`MemberCluster ${name} status`, () =>
      this.#custom.patchClusterCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: PLURALS.MemberCluster, name, body, fieldManager, force: true },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      ));
  }

  async applyMemberClusterLabels({ name, labels, fieldManager }: { name: string; labels: Record<string, string>; fieldManager: string }): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "MemberCluster", metadata: { name, labels } };
    await this.#call(`MemberCluster ${name} labels`, () =>
      this.#custom.patchClusterCustomObject(
        { group: GROUP, version: VERSION, plural: PLURALS.MemberCluster, name, body, fieldManager, force: true },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      ));
  }

  async createEvent(e: HostEvent): Promise<void> {
    const namespace = e.involved.namespace ?? "default";
    // eventTime is a metav1.MicroTime: the API server insists on six fractional digits,
    // and client-node passes the string through as given.
    const time = e.at.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    const create = this.#call(`Event for ${e.involved.kind} ${e.involved.name}`, () =>
      this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: e.name ? { name: e.name, namespace } : { generateName: `${e.involved.name}.`, namespace },
          involvedObject: {
            apiVersion: `${GROUP}/${VERSION}`, kind: e.involved.kind, name: e.involved.name,
            ...(e.involved.namespace ? { namespace: e.involved.namespace } : {}),
            ...(e.involved.uid ? { uid: e.involved.uid } : {}),
            ...(e.involved.resourceVersion ? { resourceVersion: e.involved.resourceVersion } : {}),
          },
          type: e.type,
          reason: e.reason,
          message: e.message.slice(0, 1024),
          firstTimestamp: e.at,
          lastTimestamp: e.at,
          eventTime: time as unknown as Date,
          count: e.count ?? 1,
          source: { component: e.reportingController },
          reportingComponent: e.reportingController,
          reportingInstance: e.reportingInstance,
          action: e.reason,
        },
      }));
    try {
      await create;
    } catch (err) {
      // A named Event that exists was recorded already (409 AlreadyExists).
      if (!(e.name && err instanceof ConflictError)) throw err;
    }
  }

  async ensureNamespace(name: string): Promise<void> {
    // Read first: a control plane installed by Helm may read its own namespace but not
    // create namespaces (charts/control-plane RBAC), and the API server authorizes a
    // create before it finds the namespace exists.
    if (await this.#orUndefined(`Namespace ${name}`, () => this.#core.readNamespace({ name }))) return;
    try {
      await this.#call(`Namespace ${name}`, () => this.#core.createNamespace({ body: { metadata: { name } } }));
    } catch (err) {
      if (err instanceof ConflictError) return;
      throw err;
    }
  }
}
