import { ADD, AppsV1Api, CONNECT, CoreV1Api, CustomObjectsApi, DELETE, ERROR, ListWatch, UPDATE, Watch } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesListObject, KubernetesObject, V1ConfigMap, V1Deployment, V1Node, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { GROUP, VERSION } from "../api/index.ts";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../api/index.ts";
import { IndexedStore, systemClock } from "../runtime/index.ts";
import type { ChangeHandler, ChangeKind, Clock, IndexFunc, Informer, WatchableCache, WatchEvent } from "../runtime/index.ts";

/** How often an informer lists again and announces every object (5 min). */
export const DEFAULT_RELIST_INTERVAL_MS = 300_000;

export interface KubeInformerParams<T extends KubernetesObject> {
  /** For logs and the manager: "memberclusters". */
  name: string;
  kubeConfig: KubeConfig;
  /** The list/watch path: /apis/sovereignty.eu/v1alpha1/memberclusters, /api/v1/namespaces/x/configmaps. */
  path: string;
  /** Lists `path` with the same selectors as the watch. */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  log: Logger;
  clock?: Clock;
  /** A fresh list every so often: changes a silent watch missed are found, and every handler sees every object. Default DEFAULT_RELIST_INTERVAL_MS. */
  relistIntervalMs?: number;
  /** Restart when nothing (event, watch (re)connect, list) happened for this long. Default 3 min. */
  watchdogMs?: number;
  /** Backoff between restarts after errors. Default 1 s doubling to 30 s. */
  restartBackoff?: { initialMs: number; maxMs: number };
  /**
   * Drops, in place, what no reader of this cache needs (controller-runtime's cache
   * transforms). In place because ListWatch keeps the same object in its own map.
   */
  prune?: (obj: T) => void;
}

type RoundEnd = { why: "stopped" } | { why: "error"; err: unknown } | { why: "relist" } | { why: "watchdog" };

export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/**
 * An informer over client-node's ListWatch with what ListWatch lacks (PITFALLS.md):
 * - ListWatch STOPS on any error but 410; this one restarts it, from one loop (so one
 *   timer, never a storm of parallel restarts) with exponential backoff.
 * - A watchdog restarts a round that has gone silent (a list or watch that hangs).
 * - Every `relistIntervalMs` the round is replaced by a fresh list + watch.
 * Each round is a new ListWatch whose first list is compared with this informer's own
 * store, so objects deleted while no watch was running are reported as deletes, and a
 * relist notifies handlers of every object (level-based reconcilers converge).
 */
export class KubeInformer<T extends KubernetesObject> implements Informer<T>, WatchableCache<T> {
  readonly name: string;
  readonly needLeaderElection = false;
  readonly #p: KubeInformerParams<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store = new IndexedStore<T>();
  readonly #handlers: ChangeHandler<T>[] = [];
  readonly #eventHandlers: ((e: WatchEvent<T>) => void)[] = [];
  readonly #syncWaiters: (() => void)[] = [];
  #synced = false;
  #round = 0;
  #lastActivity = 0;
  /** Rounds started so far (1 after the first list); tests and health read it. */
  restarts = 0;

  constructor(params: KubeInformerParams<T>) {
    this.name = `informer/${params.name}`;
    this.#p = params;
    this.#clock = params.clock ?? systemClock;
    this.#log = params.log.child({ informer: params.name });
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): readonly T[] {
    return this.#store.list();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  onChange(handler: ChangeHandler<T>): void {
    this.#handlers.push(handler);
  }

  /** Like onChange, with what happened (create, update, delete, resync) for predicates. */
  onEvent(handler: (e: WatchEvent<T>) => void): void {
    this.#eventHandlers.push(handler);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#store.addIndex(name, fn);
  }

  byIndex(name: string, value: string): readonly T[] {
    return this.#store.byIndex(name, value);
  }

  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    const backoff = this.#p.restartBackoff ?? { initialMs: 1000, maxMs: 30_000 };
    let delay = backoff.initialMs;
    let resync = false;
    while (!signal.aborted) {
      const startedAt = this.#now();
      const end = await this.#runRound({ signal, resync });
      if (end.why === "stopped") break;
      resync = end.why === "relist";
      if (end.why === "relist") {
        delay = backoff.initialMs;
        continue;
      }
      // A round that ran healthily for a while earns a fresh backoff.
      if (this.#now() - startedAt > backoff.maxMs) delay = backoff.initialMs;
      const wait = delay * (0.8 + Math.random() * 0.4);
      this.#log.warn({ err: end.why === "error" ? end.err : undefined, reason: end.why, restartInMs: Math.round(wait) }, "informer stopped; restarting");
      delay = Math.min(delay * 2, backoff.maxMs);
      try {
        await this.#clock.sleep(wait, signal);
      } catch {
        break;
      }
    }
  }

  async #runRound(params: { signal: AbortSignal; resync: boolean }): Promise<RoundEnd> {
    const round = ++this.#round;
    this.restarts++;
    const current = () => round === this.#round;
    const ended = new AbortController();
    // A list still hanging when its round ends must not go on to open a watch nobody reads:
    // ListWatch checks `stopped` only before listing, so the list itself is made to fail.
    const list = () => Promise.race([this.#p.list(), once(ended.signal).then(() => Promise.reject(new Error("informer round ended")))]);
    const lw = new ListWatch<T>(this.#p.path, new Watch(this.#p.kubeConfig), list, false, this.#p.labelSelector, this.#p.fieldSelector);
    const end = (e: RoundEnd) => {
      if (!ended.signal.aborted) ended.abort(e);
    };
    lw.on(ADD, (obj) => current() && this.#upsert(obj));
    lw.on(UPDATE, (obj) => current() && this.#upsert(obj));
    lw.on(DELETE, (obj) => current() && this.#remove(objectKey(obj)));
    lw.on(CONNECT, () => current() && this.#touch());
    lw.on(ERROR, (err) => current() && end({ why: "error", err }));
    const onStop = () => end({ why: "stopped" });
    params.signal.addEventListener("abort", onStop, { once: true });
    const timers = new AbortController();
    const until = AbortSignal.any([timers.signal, ended.signal, params.signal]);
    try {
      this.#touch();
      this.#watchdog(until, end);
      await Promise.race([lw.start(), once(ended.signal)]);
      if (ended.signal.aborted) return ended.signal.reason as RoundEnd;
      this.#afterList(lw, params.resync);
      this.#sleepThen(this.#p.relistIntervalMs ?? DEFAULT_RELIST_INTERVAL_MS, until, () => end({ why: "relist" }));
      await once(ended.signal);
      return ended.signal.reason as RoundEnd;
    } finally {
      params.signal.removeEventListener("abort", onStop);
      timers.abort();
      this.#round++; // late events of this ListWatch are ignored from here on
      await lw.stop();
    }
  }

  /** The round's first list is in: drop what it no longer has, then announce sync or resync. */
  #afterList(lw: ListWatch<T>, resync: boolean): void {
    const present = new Set(lw.list().map(objectKey));
    for (const key of [...this.#store.keys()]) if (!present.has(key)) this.#remove(key);
    this.#touch();
    if (resync) for (const obj of this.#store.values()) this.#emit(obj, obj, "resync");
    if (!this.#synced) {
      this.#synced = true;
      this.#log.info({ objects: this.#store.size }, "informer synced");
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  #watchdog(signal: AbortSignal, end: (e: RoundEnd) => void): void {
    const limit = this.#p.watchdogMs ?? 180_000;
    const check = () => {
      const idle = this.#now() - this.#lastActivity;
      if (idle >= limit) return end({ why: "watchdog" });
      this.#sleepThen(limit - idle, signal, check);
    };
    this.#sleepThen(limit, signal, check);
  }

  #sleepThen(ms: number, signal: AbortSignal, then: () => void): void {
    this.#clock.sleep(ms, signal).then(then, () => undefined);
  }

  #upsert(obj: T): void {
    this.#touch();
    stripUnread(obj);
    this.#p.prune?.(obj);
    const key = objectKey(obj);
    const previous = this.#store.get(key);
    if (previous && previous.metadata?.resourceVersion !== undefined && previous.metadata.resourceVersion === obj.metadata?.resourceVersion) return;
    this.#store.set(key, obj);
    this.#emit(obj, previous, previous ? "update" : "create");
  }

  #remove(key: string): void {
    this.#touch();
    const previous = this.#store.get(key);
    if (!previous) return;
    this.#store.delete(key);
    this.#emit(previous, previous, "delete");
  }

  #emit(obj: T, previous: T | undefined, kind: ChangeKind): void {
    for (const handler of this.#handlers) {
      try {
        handler(obj, previous);
      } catch (err) {
        // A handler's bug must not stop the informer; handlers only enqueue keys.
        this.#log.error({ err, key: objectKey(obj) }, "change handler threw");
      }
    }
    for (const handler of this.#eventHandlers) {
      try {
        handler({ kind, object: obj, previous });
      } catch (err) {
        this.#log.error({ err, key: objectKey(obj) }, "event handler threw");
      }
    }
  }

  #touch(): void {
    this.#lastActivity = this.#now();
  }

  #now(): number {
    return this.#clock.now().getTime();
  }
}

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Drops what no controller reads from a cache and is often the larger part of an object:
 * managedFields (as controller-runtime's TransformStripManagedFields) and kubectl's
 * last-applied annotation, a second copy of the spec (at 1,000 SovereignWorkloads the
 * control plane's RSS was well over its target).
 */
export function stripUnread(obj: KubernetesObject): void {
  const meta = obj.metadata;
  if (!meta) return;
  if ("managedFields" in meta) delete (meta as { managedFields?: unknown }).managedFields;
  if (meta.annotations && LAST_APPLIED in meta.annotations) {
    delete meta.annotations[LAST_APPLIED];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
}

function once(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** What every factory takes; the tunables of KubeInformerParams pass through. */
export type InformerFactoryParams = Pick<KubeInformerParams<KubernetesObject>, "kubeConfig" | "log" | "clock" | "relistIntervalMs" | "watchdogMs" | "restartBackoff">;

type Listed<T extends KubernetesObject> = Promise<KubernetesListObject<T>>;

function customInformer<T extends KubernetesObject>(p: InformerFactoryParams, plural: string, namespaced: boolean): KubeInformer<T> {
  const api = p.kubeConfig.makeApiClient(CustomObjectsApi);
  return new KubeInformer<T>({
    ...p,
    name: plural,
    path: `/apis/${GROUP}/${VERSION}/${plural}`,
    list: () => (namespaced
      ? api.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: plural })
      : api.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as Listed<T>,
  });
}

/** Host: every MemberCluster (cluster-scoped, key "name"). */
export function memberClusterInformer(p: InformerFactoryParams): KubeInformer<MemberCluster & KubernetesObject> {
  return customInformer(p, "memberclusters", false);
}

/** Host: every ResidencyPolicy (cluster-scoped, key "name"). */
export function residencyPolicyInformer(p: InformerFactoryParams): KubeInformer<ResidencyPolicy & KubernetesObject> {
  return customInformer(p, "residencypolicies", false);
}

/** Host: every SovereignWorkload in every namespace (key "namespace/name"). */
export function sovereignWorkloadInformer(p: InformerFactoryParams): KubeInformer<SovereignWorkload & KubernetesObject> {
  return customInformer(p, "sovereignworkloads", true);
}

/** Member: apps/v1 Deployments in all namespaces carrying `labelSelector` (the agent's own). */
export function deploymentInformer(p: InformerFactoryParams & { labelSelector: string }): KubeInformer<V1Deployment> {
  const api = p.kubeConfig.makeApiClient(AppsV1Api);
  return new KubeInformer<V1Deployment>({
    ...p, name: "deployments", path: "/apis/apps/v1/deployments", labelSelector: p.labelSelector,
    list: () => api.listDeploymentForAllNamespaces({ labelSelector: p.labelSelector }),
  });
}

/** Member: Pods in all namespaces carrying `labelSelector`. */
export function podInformer(p: InformerFactoryParams & { labelSelector: string }): KubeInformer<V1Pod> {
  const api = p.kubeConfig.makeApiClient(CoreV1Api);
  return new KubeInformer<V1Pod>({
    ...p, name: "pods", path: "/api/v1/pods", labelSelector: p.labelSelector,
    list: () => api.listPodForAllNamespaces({ labelSelector: p.labelSelector }),
  });
}

/** Member: every Node (allocatable for heartbeats). */
export function nodeInformer(p: InformerFactoryParams): KubeInformer<V1Node> {
  const api = p.kubeConfig.makeApiClient(CoreV1Api);
  return new KubeInformer<V1Node>({ ...p, name: "nodes", path: "/api/v1/nodes", list: () => api.listNode() });
}

/** ConfigMaps of one namespace, optionally by label (the guard's parameter; tests). */
export function configMapInformer(p: InformerFactoryParams & { namespace: string; labelSelector?: string }): KubeInformer<V1ConfigMap> {
  const api = p.kubeConfig.makeApiClient(CoreV1Api);
  return new KubeInformer<V1ConfigMap>({
    ...p, name: `configmaps/${p.namespace}`, path: `/api/v1/namespaces/${p.namespace}/configmaps`,
    ...(p.labelSelector ? { labelSelector: p.labelSelector } : {}),
    list: () => api.listNamespacedConfigMap({ namespace: p.namespace, ...(p.labelSelector ? { labelSelector: p.labelSelector } : {}) }),
  });
}
