// explain and audit through the host's API server: the aggregated API
// query.sovereignty.eu/v1alpha1, with the caller's kubeconfig identity, so RBAC decides.
// Answers carry the gRPC messages in their protobuf JSON form, read back with the same
// generated codecs, so the tables are the same whichever way the answer came.
import { QueryResponse } from "../../gen/sovereign/v1/audit.ts";
import type { ExportRequest, ExportResponse, QueryRequest } from "../../gen/sovereign/v1/audit.ts";
import { Decision } from "../../gen/sovereign/v1/federation.ts";
import type { ExplainRequest, ExplainResponse } from "../../gen/sovereign/v1/federation.ts";
import { ApiStatusError, KubeError } from "../../kube/index.ts";
import { ALL_LEDGERS, QUERY_API_SERVICE, QUERY_GROUP, QUERY_GROUP_VERSION, QUERY_RESOURCES, rbacResource } from "../../query/index.ts";
import type { QueryName } from "../../query/index.ts";
import type { ControlPlaneClient } from "./control-plane.ts";
import { CommandError, FailureKind } from "./errors.ts";

/** What the client needs of the raw API client (KubeRawClient has it). */
export interface RawJson {
  getJson(pathAndQuery: string): Promise<unknown>;
  /** A streamed answer, line by line (the ledger export). */
  getLines(pathAndQuery: string): AsyncIterable<string>;
}

/** The built-in roles of the control-plane chart that grant each query. */
const ROLES: Record<QueryName, string> = {
  explain: "sovereign-viewer or sovereign-admin",
  audit: "sovereign-viewer, sovereign-auditor or sovereign-admin",
  simulate: "sovereign-viewer or sovereign-admin",
  export: "sovereign-auditor or sovereign-admin",
  keys: "sovereign-viewer, sovereign-auditor or sovereign-admin",
};

function workloadPath(namespace: string, name: string, sub: string, query: URLSearchParams): string {
  const q = query.toString();
  return `/apis/${QUERY_GROUP_VERSION}/namespaces/${encodeURIComponent(namespace)}/sovereignworkloads/${encodeURIComponent(name)}/${sub}${q ? `?${q}` : ""}`;
}

/**
 * A refusal of the host's API server in words that say what to do: the missing RBAC
 * permission and the roles that grant it (403), a workload that does not exist (404), the
 * aggregated API not installed or its backend down (404 of the group, 503).
 */
export function queryError(err: unknown, p: { query: QueryName; origin: string }): unknown {
  if (!(err instanceof KubeError)) return err;
  const host = `the host API server (${p.origin})`;
  if (err.status === 0) {
    return new CommandError(FailureKind.Unreachable, `cannot reach ${host}: ${err.message}. Check that the host cluster runs and that --kubeconfig/--context name it`, { cause: err });
  }
  if (!(err instanceof ApiStatusError)) return new CommandError(FailureKind.Refused, `${host} refused: ${err.message}`, { cause: err });
  switch (err.status) {
    case 401:
      return new CommandError(FailureKind.Refused, `${host} did not accept your credentials (Unauthorized): ${err.message}`, { cause: err });
    case 403:
      return new CommandError(FailureKind.Refused,
        `${host} refused (Forbidden): ${err.message}. This needs RBAC "${QUERY_RESOURCES_VERB[p.query]}" on "${rbacResource(p.query)}" in API group "${QUERY_GROUP}"; the roles ${ROLES[p.query]} grant it`,
        { cause: err });
    case 404:
      if (/could not find the requested resource/.test(err.message)) {
        return new CommandError(FailureKind.Refused,
          `${host} does not serve ${QUERY_GROUP_VERSION}: install the control-plane chart with query.enabled (APIService ${QUERY_API_SERVICE}), or use --grpc-address for the control plane's gRPC endpoint`,
          { cause: err });
      }
      return new CommandError(FailureKind.NotFound, err.message, { cause: err });
    case 503:
      return new CommandError(FailureKind.Unreachable,
        `${host} cannot reach the control plane's query API (${err.message}). Check that the control plane runs: kubectl get apiservice ${QUERY_API_SERVICE}`,
        { cause: err });
    default:
      return new CommandError(FailureKind.Refused, `${host} answered ${err.status} ${err.reason}: ${err.message}`, { retryable: err.retryable, cause: err });
  }
}

const QUERY_RESOURCES_VERB: Record<QueryName, string> = Object.fromEntries(Object.entries(QUERY_RESOURCES).map(([q, r]) => [q, r.verb])) as Record<QueryName, string>;

/** `/apis/query.sovereignty.eu/v1alpha1/ledgers/FR/export?since=...`: the ledger of one country's chain, or of all. */
export function ledgerPath(p: { country: string; sub: "export" | "keys"; since?: Date | undefined; until?: Date | undefined }): string {
  const q = new URLSearchParams();
  if (p.since) q.set("since", p.since.toISOString());
  if (p.until) q.set("until", p.until.toISOString());
  const text = q.toString();
  return `/apis/${QUERY_GROUP_VERSION}/ledgers/${p.country || ALL_LEDGERS}/${p.sub}${text ? `?${text}` : ""}`;
}

/** The ControlPlaneClient explain and audit use, over the host's API server. */
export class HostQueryClient implements ControlPlaneClient {
  readonly #raw: RawJson;
  readonly #origin: string;

  constructor(params: { raw: RawJson; origin: string }) {
    this.#raw = params.raw;
    this.#origin = params.origin;
  }

  async explain(req: ExplainRequest): Promise<ExplainResponse> {
    const query = new URLSearchParams(req.now ? { now: req.now.toISOString() } : {});
    let body: { decision?: unknown };
    try {
      body = (await this.#raw.getJson(workloadPath(req.namespace, req.name, "explain", query))) as { decision?: unknown };
    } catch (err) {
      throw queryError(err, { query: "explain", origin: this.#origin });
    }
    return { decision: body?.decision ? Decision.fromJSON(body.decision) : undefined };
  }

  async *queryAudit(req: QueryRequest): AsyncGenerator<QueryResponse> {
    const query = new URLSearchParams();
    if (req.range?.since) query.set("since", req.range.since.toISOString());
    if (req.range?.until) query.set("until", req.range.until.toISOString());
    if (req.limit) query.set("limit", String(req.limit));
    if (req.cluster) query.set("cluster", req.cluster);
    if (req.country) query.set("country", req.country);
    let body: { records?: unknown[] };
    try {
      body = (await this.#raw.getJson(workloadPath(req.namespace, req.name, "audit", query))) as { records?: unknown[] };
    } catch (err) {
      throw queryError(err, { query: "audit", origin: this.#origin });
    }
    for (const r of body?.records ?? []) yield QueryResponse.fromJSON(r);
  }

  /** The signed ledger through `ledgers/NAME/export` (or `keys`), line by line as it streams in. */
  async *exportLedger(req: ExportRequest): AsyncGenerator<ExportResponse> {
    const sub = req.keysOnly ? "keys" : "export";
    try {
      for await (const line of this.#raw.getLines(ledgerPath({ country: req.country, sub, since: req.range?.since, until: req.range?.until }))) {
        if (line) yield { line };
      }
    } catch (err) {
      throw queryError(err, { query: sub, origin: this.#origin });
    }
  }

  close(): void {}
}
