/**
 * The aggregated API's names and its discovery documents, as kube-apiserver's aggregator
 * fetches them from every APIService backend (legacy discovery: APIGroupList, APIGroup,
 * APIResourceList). Pure data, so the plugin, the chart's roles and the tests agree.
 */

export const QUERY_GROUP = "query.sovereignty.eu";
export const QUERY_VERSION = "v1alpha1";
export const QUERY_GROUP_VERSION = `${QUERY_GROUP}/${QUERY_VERSION}`;
/** The APIService kube-apiserver routes the group through. */
export const QUERY_API_SERVICE = `${QUERY_VERSION}.${QUERY_GROUP}`;

/**
 * What RBAC sees for each query: `get` on a subresource of `sovereignworkloads` in the
 * query group (kube-apiserver parses `/namespaces/NS/sovereignworkloads/NAME/explain`
 * into resource and subresource before it authorizes and proxies), `create` on the
 * cluster-scoped `simulations`, and `get` on `ledgers/export` and `ledgers/keys`, the
 * signed audit ledger: a ledger's name is its chain's country (`FR`) or `all`, so a
 * RoleBinding's resourceNames can limit an auditor to the chains of some countries.
 */
export const QUERY_RESOURCES = {
  explain: { resource: "sovereignworkloads", subresource: "explain", verb: "get", kind: "Explanation" },
  audit: { resource: "sovereignworkloads", subresource: "audit", verb: "get", kind: "AuditTrail" },
  simulate: { resource: "simulations", subresource: "", verb: "create", kind: "Simulation" },
  export: { resource: "ledgers", subresource: "export", verb: "get", kind: "LedgerExport" },
  keys: { resource: "ledgers", subresource: "keys", verb: "get", kind: "LedgerKeys" },
} as const;

/** The name of the ledger that holds every chain (`ledgers/all/export`); any other name is a country. */
export const ALL_LEDGERS = "all";

/** Media type of an export: JSON Lines, one ledger record per line, exactly as verify reads it. */
export const LEDGER_MEDIA_TYPE = "application/jsonl";
export type QueryName = keyof typeof QUERY_RESOURCES;

/** `sovereignworkloads/explain` as RBAC rules and kubectl auth can-i write it. */
export function rbacResource(q: QueryName): string {
  const r = QUERY_RESOURCES[q];
  return r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
}

const groupVersion = { groupVersion: QUERY_GROUP_VERSION, version: QUERY_VERSION };

export function apiGroup(): Record<string, unknown> {
  return { kind: "APIGroup", apiVersion: "v1", name: QUERY_GROUP, versions: [groupVersion], preferredVersion: groupVersion };
}

export function apiGroupList(): Record<string, unknown> {
  const { kind: _kind, apiVersion: _apiVersion, ...group } = apiGroup();
  return { kind: "APIGroupList", apiVersion: "v1", groups: [group] };
}

export function apiResourceList(): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: QUERY_GROUP_VERSION,
    resources: Object.values(QUERY_RESOURCES).map((r) => ({
      name: r.subresource ? `${r.resource}/${r.subresource}` : r.resource,
      singularName: "",
      namespaced: r.resource === "sovereignworkloads",
      kind: r.kind,
      verbs: [r.verb],
    })),
  };
}

/** Enough OpenAPI for kube-apiserver's aggregation of specs and for kubectl: no schemas of our own. */
export function openApiV2(): Record<string, unknown> {
  return { swagger: "2.0", info: { title: QUERY_GROUP, version: QUERY_VERSION }, paths: {}, definitions: {} };
}

export function openApiV3Root(): Record<string, unknown> {
  return { paths: {} };
}
