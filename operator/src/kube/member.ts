import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig, V1Deployment, V1Namespace, V1Node, V1Pod, V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding } from "@kubernetes/client-node";
import { MEMBER_LABELS } from "../api/index.ts";
import { loadKubeConfig } from "./config.ts";
import type { KubeConfigSource } from "./config.ts";
import type { ChangeHandler, Informer } from "../runtime/index.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import type { Secret } from "./host.ts";
import { KubeInformer } from "./informer.ts";
import type { InformerFactoryParams } from "./informer.ts";
import { kubeCall, type RetryPolicy } from "./retry.ts";

/**
 * The member cluster's objects as the agent sees them: plain shapes with only the
 * fields it reads or writes, so the agent's logic never meets client-node's types.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface DeploymentCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Deployment {
  apiVersion: "apps/v1";
  kind: "Deployment";
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> } & Record<string, unknown>;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    conditions?: DeploymentCondition[];
  };
}

export interface Pod {
  metadata: ObjectMeta;
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

export interface Namespace {
  metadata: ObjectMeta;
}

export interface Node {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  /** status.allocatable as the API server gives it ("4", "16Gi", "110"). */
  allocatable: Record<string, string>;
}

/** The kinds of the residency guard's cluster-scoped admission objects, which the agent keeps as shipped. */
export type AdmissionObjectKind = "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding";

/** A ValidatingAdmissionPolicy or binding as the agent compares and writes it: its spec as plain JSON. */
export interface AdmissionObject {
  kind: AdmissionObjectKind;
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** What the member agent needs of its own cluster's API, as a narrow interface. */
export interface MemberApi {
  /**
   * Server-side apply under `fieldManager`. With `force` the fields another manager holds
   * are taken over (the agent's own Deployment, reverted); without it such a field makes
   * the apply fail with a ConflictError. Returns the stored object.
   */
  applyDeployment(params: { deployment: Deployment; fieldManager: string; force: boolean }): Promise<Deployment>;
  getDeployment(namespace: string, name: string): Promise<Deployment | undefined>;
  /**
   * Deletes the Deployment only if it is still the object with `uid` (a precondition, so
   * a recreated one of the same name is safe); its ReplicaSets and pods go with it. A
   * Deployment already gone is no error.
   */
  deleteDeployment(params: { namespace: string; name: string; uid: string }): Promise<void>;
  /** Creates the namespace with `labels` if absent; an existing one is left as it is. */
  ensureNamespace(name: string, labels: Record<string, string>): Promise<void>;
  applyConfigMap(params: { namespace: string; name: string; labels?: Record<string, string>; data: Record<string, string> }, fieldManager: string): Promise<void>;
  /** The ConfigMap's data, or undefined when it does not exist. */
  getConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  getAdmissionObject(kind: AdmissionObjectKind, name: string): Promise<AdmissionObject | undefined>;
  /**
   * Creates the object when it has no resourceVersion, else replaces that version (a
   * ConflictError when it changed since it was read). Returns the stored object.
   */
  writeAdmissionObject(object: AdmissionObject, fieldManager: string): Promise<AdmissionObject>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Creates, or replaces when it exists (last writer wins: the agent is the Secret's only writer). */
  writeSecret(secret: Secret): Promise<void>;
  listNodes(): Promise<Node[]>;
  listPods(labelSelector: string): Promise<Pod[]>;
}

function meta(m: { name?: string; namespace?: string; uid?: string; generation?: number; resourceVersion?: string; deletionTimestamp?: Date | string; labels?: Record<string, string>; annotations?: Record<string, string> } | undefined): ObjectMeta {
  return {
    name: m?.name ?? "",
    ...(m?.namespace ? { namespace: m.namespace } : {}),
    ...(m?.uid ? { uid: m.uid } : {}),
    ...(m?.generation !== undefined ? { generation: m.generation } : {}),
    ...(m?.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    ...(m?.deletionTimestamp ? { deletionTimestamp: new Date(m.deletionTimestamp).toISOString() } : {}),
    ...(m?.labels ? { labels: m.labels } : {}),
    ...(m?.annotations ? { annotations: m.annotations } : {}),
  };
}

export function deploymentFromV1(d: V1Deployment): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(d.metadata),
    spec: {
      replicas: d.spec?.replicas ?? 1,
      selector: { matchLabels: d.spec?.selector.matchLabels ?? {} },
      template: (d.spec?.template ?? {}) as Deployment["spec"]["template"],
    },
    ...(d.status ? {
      status: {
        ...(d.status.observedGeneration !== undefined ? { observedGeneration: d.status.observedGeneration } : {}),
        replicas: d.status.replicas ?? 0,
        readyReplicas: d.status.readyReplicas ?? 0,
        availableReplicas: d.status.availableReplicas ?? 0,
        updatedReplicas: d.status.updatedReplicas ?? 0,
        conditions: (d.status.conditions ?? []).map((c) => ({ type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) })),
      },
    } : {}),
  };
}

export function podFromV1(p: V1Pod): Pod {
  return {
    metadata: meta(p.metadata),
    status: {
      ...(p.status?.phase ? { phase: p.status.phase } : {}),
      conditions: (p.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status })),
    },
  };
}

function nodeFromV1(n: V1Node): Node {
  return {
    name: n.metadata?.name ?? "",
    ready: (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    unschedulable: n.spec?.unschedulable === true,
    allocatable: { ...(n.status?.allocatable ?? {}) },
  };
}

const applyHeader = () => setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

/** The member cluster's API through client-node. */
export class KubeMemberApi implements MemberApi {
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;
  readonly #admission: AdmissionregistrationV1Api;
  readonly #retry: RetryPolicy | undefined;
  /** For informers on the member (kube/informer.ts takes a KubeConfig). */
  readonly kubeConfig: KubeConfig;

  constructor(params: ({ kubeConfig: KubeConfig } | { source: KubeConfigSource }) & { retry?: RetryPolicy }) {
    this.kubeConfig = "kubeConfig" in params ? params.kubeConfig : loadKubeConfig(params.source);
    this.#retry = params.retry;
    this.#core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.#apps = this.kubeConfig.makeApiClient(AppsV1Api);
    this.#admission = this.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  }

  #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return kubeCall(what, call, this.#retry);
  }

  async applyDeployment(params: { deployment: Deployment; fieldManager: string; force: boolean }): Promise<Deployment> {
    const { deployment: d, fieldManager, force } = params;
    const { namespace = "", name } = d.metadata;
    const body = { apiVersion: d.apiVersion, kind: d.kind, metadata: d.metadata, spec: d.spec };
    const stored = await this.#call(`apply Deployment ${namespace}/${name}`, () =>
      this.#apps.patchNamespacedDeployment({ namespace, name, body, fieldManager, force }, applyHeader()));
    pruneDeployment(stored);
    return deploymentFromV1(stored);
  }

  async getDeployment(namespace: string, name: string): Promise<Deployment | undefined> {
    try {
      return deploymentFromV1(await this.#call(`Deployment ${namespace}/${name}`, () => this.#apps.readNamespacedDeployment({ namespace, name })));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async deleteDeployment(params: { namespace: string; name: string; uid: string }): Promise<void> {
    const { namespace, name, uid } = params;
    try {
      await this.#call(`delete Deployment ${namespace}/${name}`, () =>
        this.#apps.deleteNamespacedDeployment({ namespace, name, body: { preconditions: { uid }, propagationPolicy: "Background" } }));
    } catch (err) {
      // Gone already, or replaced by another object (the uid precondition answers 409): not ours to delete.
      if (err instanceof NotFoundError || err instanceof ConflictError) return;
      throw err;
    }
  }

  async ensureNamespace(name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.#call(`Namespace ${name}`, () => this.#core.readNamespace({ name }));
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    try {
      await this.#call(`create Namespace ${name}`, () => this.#core.createNamespace({ body: { metadata: { name, labels } } }));
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  async applyConfigMap(params: { namespace: string; name: string; labels?: Record<string, string>; data: Record<string, string> }, fieldManager: string): Promise<void> {
    const { namespace, name } = params;
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace, name, ...(params.labels ? { labels: params.labels } : {}) }, data: params.data };
    await this.#call(`apply ConfigMap ${namespace}/${name}`, () =>
      this.#core.patchNamespacedConfigMap({ namespace, name, body, fieldManager, force: true }, applyHeader()));
  }

  async getConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const c = await this.#call(`ConfigMap ${namespace}/${name}`, () => this.#core.readNamespacedConfigMap({ namespace, name }));
      return { ...(c.data ?? {}) };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async getAdmissionObject(kind: AdmissionObjectKind, name: string): Promise<AdmissionObject | undefined> {
    try {
      const o = await this.#call<V1ValidatingAdmissionPolicy | V1ValidatingAdmissionPolicyBinding>(`${kind} ${name}`, () => kind === "ValidatingAdmissionPolicy"
        ? this.#admission.readValidatingAdmissionPolicy({ name })
        : this.#admission.readValidatingAdmissionPolicyBinding({ name }));
      return admissionObjectFrom(kind, o);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async writeAdmissionObject(object: AdmissionObject, fieldManager: string): Promise<AdmissionObject> {
    const { kind, metadata } = object;
    const body = { apiVersion: "admissionregistration.k8s.io/v1", kind, metadata, spec: object.spec };
    const name = metadata.name;
    const stored = await this.#call<V1ValidatingAdmissionPolicy | V1ValidatingAdmissionPolicyBinding>(`${metadata.resourceVersion ? "replace" : "create"} ${kind} ${name}`, () => {
      if (kind === "ValidatingAdmissionPolicy") {
        const b = body as unknown as V1ValidatingAdmissionPolicy;
        return metadata.resourceVersion ? this.#admission.replaceValidatingAdmissionPolicy({ name, body: b, fieldManager }) : this.#admission.createValidatingAdmissionPolicy({ body: b, fieldManager });
      }
      const b = body as unknown as V1ValidatingAdmissionPolicyBinding;
      return metadata.resourceVersion ? this.#admission.replaceValidatingAdmissionPolicyBinding({ name, body: b, fieldManager }) : this.#admission.createValidatingAdmissionPolicyBinding({ body: b, fieldManager });
    });
    return admissionObjectFrom(kind, stored);
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    try {
      const s = await this.#call(`Secret ${namespace}/${name}`, () => this.#core.readNamespacedSecret({ namespace, name }));
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, "base64").toString("utf8");
      return { name, namespace, ...(s.metadata?.resourceVersion ? { resourceVersion: s.metadata.resourceVersion } : {}), ...(s.metadata?.labels ? { labels: s.metadata.labels } : {}), data };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async writeSecret(secret: Secret): Promise<void> {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data)) data[k] = Buffer.from(v, "utf8").toString("base64");
    const body = {
      apiVersion: "v1", kind: "Secret", type: secret.type ?? "Opaque",
      metadata: { name: secret.name, namespace: secret.namespace, ...(secret.labels ? { labels: secret.labels } : {}) },
      data,
    };
    try {
      await this.#call(`create Secret ${secret.namespace}/${secret.name}`, () => this.#core.createNamespacedSecret({ namespace: secret.namespace, body }));
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      await this.#call(`replace Secret ${secret.namespace}/${secret.name}`, () =>
        this.#core.replaceNamespacedSecret({ namespace: secret.namespace, name: secret.name, body }));
    }
  }

  async listNodes(): Promise<Node[]> {
    return (await this.#call("list Nodes", () => this.#core.listNode())).items.map(nodeFromV1);
  }

  async listPods(labelSelector: string): Promise<Pod[]> {
    return (await this.#call(`list Pods ${labelSelector}`, () => this.#core.listPodForAllNamespaces({ labelSelector }))).items.map(podFromV1);
  }
}

/**
 * An informer seen through a conversion (client-node's objects to the plain shapes
 * above); each stored object is converted once and kept while the informer holds it.
 */
class MappedInformer<S extends object, T> implements Informer<T> {
  readonly #inner: Informer<S>;
  readonly #map: (s: S) => T;
  readonly #memo = new WeakMap<S, T>();
  readonly name: string;

  constructor(inner: Informer<S>, map: (s: S) => T) {
    this.#inner = inner;
    this.#map = map;
    this.name = inner.name;
  }

  #convert(s: S): T {
    let t = this.#memo.get(s);
    if (t === undefined) {
      t = this.#map(s);
      this.#memo.set(s, t);
    }
    return t;
  }

  get(key: string): T | undefined {
    const s = this.#inner.get(key);
    return s === undefined ? undefined : this.#convert(s);
  }

  list(): readonly T[] {
    return this.#inner.list().map((s) => this.#convert(s));
  }

  hasSynced(): boolean {
    return this.#inner.hasSynced();
  }

  onChange(handler: ChangeHandler<T>): void {
    this.#inner.onChange((obj, previous) => handler(this.#convert(obj), previous === undefined ? undefined : this.#convert(previous)));
  }

  waitForSync(signal: AbortSignal): Promise<void> {
    return this.#inner.waitForSync(signal);
  }

  start(signal: AbortSignal): Promise<void> {
    return this.#inner.start(signal);
  }
}

/**
 * What the agent's caches keep of each object: only what its reconcile and status read.
 * The rest (pod specs, managedFields, kubectl's last-applied copy of the whole object,
 * container statuses) was most of the agent's memory at a few hundred Deployments.
 */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function keepOnly(obj: Record<string, unknown> | undefined, keys: readonly string[]): void {
  if (!obj) return;
  for (const k of Object.keys(obj)) if (!keys.includes(k)) delete obj[k];
}

const META_KEYS = ["name", "namespace", "uid", "generation", "resourceVersion", "deletionTimestamp", "labels", "annotations"] as const;

/** Plain JSON of what client-node returns (its models carry undefined for every absent field). */
function plain(x: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(x ?? {})) as Record<string, unknown>;
}

function admissionObjectFrom(kind: AdmissionObjectKind, o: V1ValidatingAdmissionPolicy | V1ValidatingAdmissionPolicyBinding): AdmissionObject {
  const m = o.metadata ?? {};
  return {
    kind,
    metadata: {
      name: m.name ?? "",
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.labels ? { labels: { ...m.labels } } : {}),
      ...(m.annotations ? { annotations: { ...m.annotations } } : {}),
    },
    spec: plain(o.spec),
  };
}

export function pruneDeployment(d: V1Deployment): void {
  keepOnly(d.metadata as Record<string, unknown> | undefined, META_KEYS);
  if (d.metadata?.annotations) delete d.metadata.annotations[LAST_APPLIED];
  keepOnly(d.spec as Record<string, unknown> | undefined, ["replicas", "selector", "template"]);
  keepOnly(d.status as Record<string, unknown> | undefined, ["observedGeneration", "replicas", "readyReplicas", "availableReplicas", "updatedReplicas", "conditions"]);
  for (const c of d.status?.conditions ?? []) keepOnly(c as unknown as Record<string, unknown>, ["type", "status", "reason", "message"]);
}

/** A pod as the agent reads it: its workload's uid, whether it is going, its phase and readiness. */
export function prunePod(p: V1Pod): void {
  const m = p.metadata;
  keepOnly(m as Record<string, unknown> | undefined, ["name", "namespace", "uid", "resourceVersion", "deletionTimestamp", "labels"]);
  if (m?.labels) {
    const uid = m.labels[MEMBER_LABELS.workloadUid];
    m.labels = uid === undefined ? {} : { [MEMBER_LABELS.workloadUid]: uid };
  }
  delete (p as { spec?: unknown }).spec;
  keepOnly(p.status as Record<string, unknown> | undefined, ["phase", "conditions"]);
  if (p.status?.conditions) p.status.conditions = p.status.conditions.filter((c) => c.type === "Ready").map((c) => ({ type: c.type, status: c.status }));
}

export function pruneNamespace(n: V1Namespace): void {
  keepOnly(n.metadata as Record<string, unknown> | undefined, ["name", "uid", "resourceVersion", "deletionTimestamp", "labels"]);
  delete (n as { spec?: unknown }).spec;
  delete (n as { status?: unknown }).status;
}


/**
 * The member agent's informers, as plain objects: its Deployments, the pods of its
 * workloads, and the namespaces it created, each selected by label and pruned.
 */
/**
 * How the agent's informers retry while their member's API server is gone: from 0.5 s up
 * to 4 s, not the default 30 s. Work for the member waits on these informers, and with 30 s
 * a 20 s outage left the next attempt up to 11 s after the API server was back (the chaos
 * scenario's bound is 10 s); three informers retrying every 4 s are no storm.
 */
export const MEMBER_INFORMER_BACKOFF = { initialMs: 500, maxMs: 4_000 } as const;

export function memberInformers(params: InformerFactoryParams & { deploymentSelector: string; podSelector: string; namespaceSelector: string }): {
  deployments: Informer<Deployment>;
  pods: Informer<Pod>;
  namespaces: Informer<Namespace>;
} {
  const { deploymentSelector, podSelector, namespaceSelector, ...rest } = params;
  const common = { ...rest, restartBackoff: rest.restartBackoff ?? MEMBER_INFORMER_BACKOFF };
  const apps = common.kubeConfig.makeApiClient(AppsV1Api);
  const core = common.kubeConfig.makeApiClient(CoreV1Api);
  return {
    deployments: new MappedInformer(new KubeInformer<V1Deployment>({
      ...common, name: "deployments", path: "/apis/apps/v1/deployments", labelSelector: deploymentSelector, prune: pruneDeployment,
      list: () => apps.listDeploymentForAllNamespaces({ labelSelector: deploymentSelector }),
    }), deploymentFromV1),
    pods: new MappedInformer(new KubeInformer<V1Pod>({
      ...common, name: "pods", path: "/api/v1/pods", labelSelector: podSelector, prune: prunePod,
      list: () => core.listPodForAllNamespaces({ labelSelector: podSelector }),
    }), podFromV1),
    namespaces: new MappedInformer(new KubeInformer<V1Namespace>({
      ...common, name: "namespaces", path: "/api/v1/namespaces", labelSelector: namespaceSelector, prune: pruneNamespace,
      list: () => core.listNamespace({ labelSelector: namespaceSelector }),
    }), (n) => ({ metadata: meta(n.metadata) })),
  };
}
