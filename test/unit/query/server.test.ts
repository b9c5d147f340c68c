// The aggregated query API over real TLS: only kube-apiserver's front proxy (a client
// certificate of the request-header CA with an allowed CN) is served; discovery as the
// aggregator reads it; answers and refusals as Kubernetes objects and metav1.Status.
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { Writable } from "node:stream";
import { ensurePki, pkiLayout, type Pki } from "../../../hack/lib/federation/security.ts";
import { AuditAction, QueryResponse } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import type { ExportRequest, QueryRequest } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import { Decision } from "../../../operator/src/gen/sovereign/v1/federation.ts";
import type { ExplainRequest } from "../../../operator/src/gen/sovereign/v1/federation.ts";
import { RpcError } from "../../../operator/src/federation/grpc/index.ts";
import type { FederationHandlers } from "../../../operator/src/federation/grpc/index.ts";
import { QUERY_GROUP_VERSION, QueryApiServer, simulationSpec } from "../../../operator/src/query/index.ts";

interface Answer { status: number; body: Record<string, unknown> }

const DECISION: Decision = {
  workload: "customers/crm", scheduled: true, reason: "Scheduled", message: "2 replicas on 1 cluster",
  placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 2 }],
  rejected: [{ cluster: "aws-fra-1", reasons: ["CountryNotAllowed"], messages: [] }],
  unselected: [],
};

function record(i: number): QueryResponse {
  return {
    streamSequence: i,
    record: {
      recordId: `r${i}`, time: new Date(Date.UTC(2026, 11, 1, 0, 0, i)), action: AuditAction.AUDIT_ACTION_PLACED,
      workload: { namespace: "customers", name: "crm", uid: "u1" }, cluster: "ovh-par-1", country: "FR", replicas: 2,
      fromCluster: "", reasons: [], generation: 1, decidedBy: "control-plane", residencyPolicy: "", facts: undefined, requirements: undefined,
    } as QueryResponse["record"],
  };
}

describe("aggregated query API (operator/src/query)", function () {
  this.timeout(60_000);
  let dir: string;
  let pki: Pki;
  let server: QueryApiServer;
  let port: number;
  const explained: ExplainRequest[] = [];
  const audited: QueryRequest[] = [];
  const logLines: Record<string, unknown>[] = [];

  const exported: ExportRequest[] = [];
  /** A line the size of a ledger record, numbered. */
  const ledgerLine = (i: number) => JSON.stringify({ n: i, pad: "x".repeat(900) });
  const LEDGER_LINES = 5_000;

  const handlers: FederationHandlers = {
    exportLedger: async function* (req, signal) {
      exported.push(req);
      if (req.country === "ZZ") throw new RpcError(status.INVALID_ARGUMENT, "country ZZ: no such chain");
      const n = req.keysOnly ? 2 : LEDGER_LINES;
      for (let i = 1; i <= n; i++) {
        if (signal.aborted) return;
        // Fails after it began: what the client gets must not look whole.
        if (req.country === "XX" && i === 4) throw new Error("the audit stream went away");
        yield { line: ledgerLine(i) };
        // Let the socket fill and drain as a real stream read would.
        if (i % 500 === 0) await new Promise<void>((r) => setImmediate(r));
      }
    },
    explain: async (req) => {
      explained.push(req);
      if (req.name !== "crm") throw new RpcError(status.NOT_FOUND, `SovereignWorkload ${req.namespace}/${req.name} does not exist on the host`);
      return { decision: DECISION };
    },
    simulate: async (req) => ({ decisions: req.documents.map(() => DECISION) }),
    audit: async function* (req) {
      audited.push(req);
      for (let i = 1; i <= 5; i++) {
        yield record(i);
        if (req.limit && i >= req.limit) return;
      }
    },
  };

  function pem(file: string): string {
    return readFileSync(file, "utf8");
  }

  function call(opts: { path: string; method?: string; client?: { cert: string; key: string } | undefined; headers?: Record<string, string>; body?: string }): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: "127.0.0.1", port, path: opts.path, method: opts.method ?? "GET", servername: "localhost", ca: pem(pki.ca.cert),
        ...(opts.client ? { cert: pem(opts.client.cert), key: pem(opts.client.key) } : {}),
        headers: { accept: "application/json", ...opts.headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown> }));
      });
      req.on("error", reject);
      req.end(opts.body);
    });
  }

  /** A raw GET as the front proxy; `complete` false when the answer was cut. */
  function getText(p: string): Promise<{ status: number; type: string; text: string; complete: boolean }> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: "127.0.0.1", port, path: p, method: "GET", servername: "localhost", ca: pem(pki.ca.cert),
        cert: pem(pki.frontProxyClient.cert), key: pem(pki.frontProxyClient.key), headers: { "X-Remote-User": "alice" },
      }, (res) => {
        const chunks: Buffer[] = [];
        const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), text: Buffer.concat(chunks).toString("utf8"), complete });
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done(res.complete));
        res.on("error", () => done(false));
        res.on("aborted", () => done(false));
      });
      // The connection closed before an answer: cut as well.
      req.on("error", (err) => ((err as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve({ status: 0, type: "", text: "", complete: false }) : reject(err)));
      req.end();
    });
  }

  const asProxy = (p: string, extra: Partial<Parameters<typeof call>[0]> = {}) =>
    call({ path: p, client: pki.frontProxyClient, headers: { "X-Remote-User": "alice", "X-Remote-Group": "auditors" }, ...extra });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "query-api-"));
    pki = pkiLayout({ stateDir: dir, members: ["fr"] });
    ensurePki({ pki });
    const sink = new Writable({ write(chunk, _enc, done) { logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    server = new QueryApiServer({
      tls: { certPem: pem(pki.queryServer.cert), keyPem: pem(pki.queryServer.key) },
      requestHeader: { clientCaPem: pem(pki.frontProxyCa.cert), allowedNames: ["front-proxy-client"], usernameHeaders: ["X-Remote-User"], groupHeaders: ["X-Remote-Group"] },
      handlers, log: pino({ level: "info" }, sink), maxAuditRecords: 3,
    });
    port = await server.start("127.0.0.1:0");
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a caller without the front proxy's certificate with a 401 Status (positive control: the proxy is served)", async () => {
    const none = await call({ path: `/apis/${QUERY_GROUP_VERSION}` });
    assert.equal(none.status, 401);
    assert.equal(none.body.kind, "Status");
    assert.equal(none.body.reason, "Unauthorized");
    assert.match(String(none.body.message), /front proxy/);
    // Signed by the federation's other CA (the admin's gRPC certificate): not the request-header CA.
    const wrongCa = await call({ path: `/apis/${QUERY_GROUP_VERSION}`, client: pki.grpcClients.admin!, headers: { "X-Remote-User": "system:admin" } });
    assert.equal(wrongCa.status, 401);
    assert.match(String(wrongCa.body.message), /request-header CA/);
    assert.equal((await asProxy(`/apis/${QUERY_GROUP_VERSION}`)).status, 200);
  });

  it("refuses a front-proxy certificate whose CN is not an allowed name", async () => {
    const strict = new QueryApiServer({
      tls: { certPem: pem(pki.queryServer.cert), keyPem: pem(pki.queryServer.key) },
      requestHeader: { clientCaPem: pem(pki.frontProxyCa.cert), allowedNames: ["aggregator"], usernameHeaders: ["X-Remote-User"], groupHeaders: ["X-Remote-Group"] },
      handlers,
    });
    const strictPort = await strict.start("127.0.0.1:0");
    try {
      const saved = port;
      port = strictPort;
      const r = await asProxy(`/apis/${QUERY_GROUP_VERSION}`).finally(() => (port = saved));
      assert.equal(r.status, 401);
      assert.match(String(r.body.message), /CN "front-proxy-client" is not an allowed front-proxy name/);
    } finally {
      await strict.stop();
    }
  });

  it("serves discovery as the aggregator reads it: APIGroupList, APIGroup, APIResourceList with the RBAC subresources", async () => {
    const list = (await asProxy("/apis")).body as { kind: string; groups: { name: string; preferredVersion: { groupVersion: string } }[] };
    assert.equal(list.kind, "APIGroupList");
    assert.deepEqual(list.groups.map((g) => g.preferredVersion.groupVersion), [QUERY_GROUP_VERSION]);
    assert.equal((await asProxy("/apis/query.sovereignty.eu")).body.kind, "APIGroup");
    const resources = (await asProxy(`/apis/${QUERY_GROUP_VERSION}`)).body as { resources: { name: string; namespaced: boolean; verbs: string[] }[] };
    assert.deepEqual(resources.resources.map((r) => [r.name, r.namespaced, r.verbs.join()]), [
      ["sovereignworkloads/explain", true, "get"], ["sovereignworkloads/audit", true, "get"], ["simulations", false, "create"],
      ["ledgers/export", false, "get"], ["ledgers/keys", false, "get"],
    ]);
    assert.equal((await asProxy("/openapi/v2")).body.swagger, "2.0");
    assert.equal((await asProxy("/openapi/v3")).status, 200);
  });

  it("explains a workload through the shared handler, logs the caller from X-Remote-User, and round-trips the decision", async () => {
    const r = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/explain?now=2026-11-28T00:00:00Z");
    assert.equal(r.status, 200);
    assert.equal(r.body.apiVersion, QUERY_GROUP_VERSION);
    assert.equal(r.body.kind, "Explanation");
    assert.deepEqual(r.body.metadata, { name: "crm", namespace: "customers" });
    assert.deepEqual(Decision.fromJSON(r.body.decision), DECISION);
    assert.deepEqual(explained.at(-1), { namespace: "customers", name: "crm", now: new Date("2026-11-28T00:00:00Z") });
    const line = logLines.find((l) => l.msg === "query served" && String(l.path).endsWith("/crm/explain"));
    assert.equal(line?.user, "alice");
    assert.deepEqual(line?.groups, ["auditors"]);
  });

  it("answers errors as metav1.Status with the right code: 404 for a missing workload, 400 for a bad time, 404 for an unknown subresource, 405 for a wrong verb", async () => {
    const missing = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/nope/explain");
    assert.equal(missing.status, 404);
    assert.deepEqual([missing.body.kind, missing.body.reason, missing.body.code], ["Status", "NotFound", 404]);
    assert.match(String(missing.body.message), /customers\/nope does not exist/);
    const bad = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/audit?since=yesterday");
    assert.deepEqual([bad.status, bad.body.reason], [400, "BadRequest"]);
    const unknown = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/scale");
    assert.equal(unknown.status, 404);
    const wrongVerb = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/explain", { method: "DELETE" });
    assert.equal(wrongVerb.status, 405);
  });

  it("reads the audit trail through the shared handler, with limit, since, and a bounded answer without limit", async () => {
    const limited = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/audit?limit=2&since=2026-12-01T00:00:00Z");
    assert.equal(limited.status, 200);
    assert.equal(limited.body.kind, "AuditTrail");
    const records = (limited.body.records as unknown[]).map((x) => QueryResponse.fromJSON(x));
    assert.deepEqual(records.map((x) => x.streamSequence), [1, 2]);
    assert.deepEqual(records[0], record(1));
    assert.deepEqual(audited.at(-1)?.range?.since, new Date("2026-12-01T00:00:00Z"));
    assert.equal(audited.at(-1)?.namespace, "customers");
    const all = await asProxy("/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/audit");
    assert.equal((all.body.records as unknown[]).length, 3);
    assert.equal(all.body.truncated, true);
  });

  it("simulates documents POSTed as a Simulation, and checks the body field by field", async () => {
    const body = JSON.stringify({ apiVersion: QUERY_GROUP_VERSION, kind: "Simulation", spec: { documents: ["kind: MemberCluster"], now: "2026-11-28T00:00:00Z" } });
    const r = await asProxy("/apis/query.sovereignty.eu/v1alpha1/simulations", { method: "POST", body, headers: { "content-type": "application/json", "X-Remote-User": "bob" } });
    assert.equal(r.status, 200);
    const decisions = (r.body.status as { decisions: unknown[] }).decisions.map((d) => Decision.fromJSON(d));
    assert.deepEqual(decisions, [DECISION]);
    assert.throws(() => simulationSpec({ apiVersion: QUERY_GROUP_VERSION, kind: "Simulation", spec: { documents: [1] } }), /spec.documents/);
    assert.throws(() => simulationSpec({ apiVersion: "v1", kind: "Simulation", spec: { documents: [] } }), /apiVersion\/kind/);
    const notJson = await asProxy("/apis/query.sovereignty.eu/v1alpha1/simulations", { method: "POST", body: "{", headers: { "content-type": "application/json" } });
    assert.equal(notJson.status, 400);
  });

  it("streams a ledger export as JSON Lines, every line in order, with the country and range passed to the shared handler", async () => {
    exported.length = 0;
    const r = await getText(`/apis/${QUERY_GROUP_VERSION}/ledgers/FR/export?since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z`);
    assert.equal(r.status, 200);
    assert.equal(r.type, "application/jsonl");
    assert.ok(r.complete);
    const lines = r.text.split("\n");
    assert.equal(lines.pop(), "", "ends with a newline");
    assert.equal(lines.length, LEDGER_LINES);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { n: number }).n), Array.from({ length: LEDGER_LINES }, (_, i) => i + 1));
    assert.deepEqual(exported, [{ country: "FR", range: { since: new Date("2026-11-01T00:00:00Z"), until: new Date("2026-12-01T00:00:00Z") }, keysOnly: false }]);
    const all = await getText(`/apis/${QUERY_GROUP_VERSION}/ledgers/all/keys`);
    assert.equal(all.status, 200);
    assert.equal(all.text.split("\n").length, 3);
    assert.deepEqual(exported[1], { country: "", range: undefined, keysOnly: true });
  });

  it("cuts an export that fails after it began, so that it cannot be taken for a whole one; a failure before the first line is a Status", async () => {
    const cut = await getText(`/apis/${QUERY_GROUP_VERSION}/ledgers/XX/export`);
    assert.equal(cut.complete, false, "the response is cut, not ended");
    assert.ok(cut.text.split("\n").length <= 4, "at most the lines before the failure");
    const early = await getText(`/apis/${QUERY_GROUP_VERSION}/ledgers/ZZ/export`);
    assert.equal(early.status, 400);
    assert.match((JSON.parse(early.text) as { message: string }).message, /no such chain/);
    // Positive control: the same path with a chain that exists ends cleanly.
    assert.equal((await getText(`/apis/${QUERY_GROUP_VERSION}/ledgers/DE/export`)).complete, true);
  });

  it("refuses a ledger name that is neither a country nor all, an unknown ledger subresource, a bad time and a write", async () => {
    for (const [p, code] of [
      ["ledgers/fr/export", 404], ["ledgers/FRA/export", 404], ["ledgers/FR/delete", 404], ["ledgers/FR/export?since=yesterday", 400],
      ["ledgers/FR/export?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", 400],
    ] as const) {
      const r = await getText(`/apis/${QUERY_GROUP_VERSION}/${p}`);
      assert.equal(r.status, code, `${p}: ${r.text}`);
      assert.equal((JSON.parse(r.text) as { kind: string }).kind, "Status");
    }
    const post = await asProxy(`/apis/${QUERY_GROUP_VERSION}/ledgers/FR/export`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    assert.equal(post.status, 405);
  });
});
