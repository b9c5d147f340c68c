import type { Condition, CountryCode, MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { memberCluster } from "../../support/builders.ts";
import { ConflictError } from "../../../operator/src/kube/index.ts";
import type { HostApi, Secret } from "../../../operator/src/kube/index.ts";

/** An in-memory host API with resourceVersion semantics, for Join and token tests. */
export class FakeHost implements HostApi {
  secrets = new Map<string, Secret>();
  clusters = new Map<string, MemberCluster>();
  conditions: { name: string; condition: Condition }[] = [];
  #rv = 1;
  /** Called before each replace: lets a test interleave a concurrent writer. */
  beforeReplace: (s: Secret) => Promise<void> | void = () => undefined;

  async getSecret(namespace: string, name: string) {
    const s = this.secrets.get(`${namespace}/${name}`);
    return s && structuredClone(s);
  }
  async createSecret(secret: Secret) {
    const key = `${secret.namespace}/${secret.name}`;
    if (this.secrets.has(key)) throw new ConflictError(key);
    const stored = { ...structuredClone(secret), resourceVersion: String(this.#rv++) };
    this.secrets.set(key, stored);
    return structuredClone(stored);
  }
  async replaceSecret(secret: Secret) {
    await this.beforeReplace(secret);
    const key = `${secret.namespace}/${secret.name}`;
    const cur = this.secrets.get(key);
    if (!cur || cur.resourceVersion !== secret.resourceVersion) throw new ConflictError(key);
    const stored = { ...structuredClone(secret), resourceVersion: String(this.#rv++) };
    this.secrets.set(key, stored);
    return structuredClone(stored);
  }
  async deleteSecret(namespace: string, name: string) {
    this.secrets.delete(`${namespace}/${name}`);
  }
  async getMemberCluster(name: string) {
    return this.clusters.get(name);
  }
  async listMemberClusters() {
    return [...this.clusters.values()];
  }
  async listResidencyPolicies(): Promise<ResidencyPolicy[]> {
    return [];
  }
  async listSovereignWorkloads(): Promise<SovereignWorkload[]> {
    return [];
  }
  async getSovereignWorkload() {
    return undefined;
  }
  async applyMemberClusterCondition(name: string, condition: Condition) {
    this.conditions.push({ name, condition });
  }
}

/** A MemberCluster as the host stores it, without status (the builders' other defaults). */
export function storedMemberCluster({ name, country = "FR" }: { name: string; country?: CountryCode }): MemberCluster {
  return memberCluster({ name, residency: { country }, status: null, metadata: { generation: 1 } });
}
