import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Client, credentials, status } from "@grpc/grpc-js";
import type { ServiceError, StatusObject } from "@grpc/grpc-js";
import fc from "fast-check";
import { ExportRequest, QueryRequest } from "../../operator/src/gen/sovereign/v1/audit.ts";
import { ExplainRequest, JoinRequest, SimulateRequest } from "../../operator/src/gen/sovereign/v1/federation.ts";
import { readFederationEnv } from "../integration/env.ts";
import type { FederationEnv } from "../integration/env.ts";
import { envSuffix, need } from "../integration/federation/helpers.ts";
import { controlPlaneStart, fcParams, reportRate, runsFor, suiteTimeout } from "./support/fuzz.ts";

/**
 * Arbitrary requests to the control plane's gRPC server (Join, Explain, Simulate, the
 * audit Query and Export), as an admin and as a member, over mutual TLS: messages of
 * the right type with random fields, and raw random bytes on the wire (a passthrough
 * serializer). Each gets an answer or an error status that is the caller's fault
 * (INVALID_ARGUMENT naming a field, NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED...),
 * never INTERNAL or UNKNOWN, and the server stays up.
 */

interface Method {
  path: string;
  streaming: boolean;
  /** The request's fields, as an INVALID_ARGUMENT may name them (proto or JSON names). */
  fields: string[];
  random: fc.Arbitrary<Uint8Array>;
}

const str = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 10 }), fc.constantFrom("", "fr", "FR", "default", "x".repeat(10_000), "a.b", "*", "../x"));
const date = fc.option(fc.date({ noInvalidDate: true }), { nil: undefined });
const range = fc.option(fc.record({ since: date, until: date }), { nil: undefined });

const METHODS: Method[] = [
  {
    path: "/sovereign.v1.FederationService/Join", streaming: false, fields: ["cluster", "bootstrap_token", "bootstrapToken", "agent_version", "agentVersion"],
    random: fc.record({ cluster: str, bootstrapToken: fc.oneof(str, fc.stringMatching(/^[a-z0-9]{6}\.[a-z0-9]{16}$/)), agentVersion: str }).map((r) => JoinRequest.encode(JoinRequest.fromPartial(r)).finish()),
  },
  {
    path: "/sovereign.v1.FederationService/Explain", streaming: false, fields: ["namespace", "name", "now"],
    random: fc.record({ namespace: str, name: str, now: date }).map((r) => ExplainRequest.encode(ExplainRequest.fromPartial(r)).finish()),
  },
  {
    path: "/sovereign.v1.FederationService/Simulate", streaming: false, fields: ["documents", "now"],
    random: fc.record({ documents: fc.array(fc.oneof(str, fc.json(), fc.constantFrom("kind: MemberCluster\n", "kind: SovereignWorkload\nspec: 1\n", "&a [*a]")), { maxLength: 4 }), now: date })
      .map((r) => SimulateRequest.encode(SimulateRequest.fromPartial(r)).finish()),
  },
  {
    path: "/sovereign.v1.AuditService/Query", streaming: true, fields: ["namespace", "name", "cluster", "country", "range", "since", "until", "limit"],
    random: fc.record({ namespace: str, name: str, cluster: str, country: str, range, limit: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 32 - 1)) })
      .map((r) => QueryRequest.encode(QueryRequest.fromPartial(r)).finish()),
  },
  {
    path: "/sovereign.v1.AuditService/Export", streaming: true, fields: ["country", "range", "since", "until", "keys_only", "keysOnly"],
    random: fc.record({ country: str, range, keysOnly: fc.boolean() }).map((r) => ExportRequest.encode(ExportRequest.fromPartial(r)).finish()),
  },
];

/** What a caller may be told: its own fault, or the server's plain answer; never a crash. */
const ALLOWED = new Set<number>([
  status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE, status.RESOURCE_EXHAUSTED, status.ALREADY_EXISTS, status.UNIMPLEMENTED, status.DEADLINE_EXCEEDED,
]);

const passthrough = (b: Buffer) => b;

function call(client: Client, method: Method, body: Uint8Array): Promise<StatusObject> {
  const deadline = Date.now() + 30_000;
  const payload = Buffer.from(body);
  return new Promise((resolve) => {
    if (method.streaming) {
      const stream = client.makeServerStreamRequest(method.path, passthrough, passthrough, payload, { deadline });
      stream.on("data", () => undefined);
      stream.on("error", () => undefined);
      stream.on("status", (s: StatusObject) => resolve(s));
    } else {
      client.makeUnaryRequest(method.path, passthrough, passthrough, payload, { deadline }, (err: ServiceError | null) =>
        resolve(err ? { code: err.code, details: err.details, metadata: err.metadata } : ({ code: status.OK, details: "" } as StatusObject)));
    }
  });
}

describe("fuzz: arbitrary gRPC requests to the control plane (real server, mutual TLS)", function () {
  this.timeout(suiteTimeout("grpc"));
  let env: FederationEnv;
  const clients: Record<string, Client> = {};
  let startedAt = 0;

  before(async () => {
    env = readFederationEnv();
    const member = env.agents[0] ?? assert.fail("no member");
    for (const [who, id] of [["admin", "admin"], ["member", member]] as const) {
      const creds = credentials.createSsl(readFileSync(need(env, "GRPC_CA")), readFileSync(need(env, `GRPC_KEY_${envSuffix(id)}`)), readFileSync(need(env, `GRPC_CERT_${envSuffix(id)}`)));
      clients[who] = new Client(env.controlPlaneGrpcAddress, creds, { "grpc.ssl_target_name_override": "localhost" });
    }
    startedAt = await controlPlaneStart(env.controlPlaneMetricsUrl);
  });

  after(() => {
    for (const c of Object.values(clients)) c.close();
  });

  it("answers every request with a status that is the caller's fault or OK, never INTERNAL or UNKNOWN; the server stays up", async () => {
    // Control: a well-formed Explain of a workload that does not exist is NOT_FOUND, so the server answers this client.
    const control = await call(clients.admin!, METHODS[1]!, ExplainRequest.encode(ExplainRequest.fromPartial({ namespace: "fuzz", name: "no-such-workload" })).finish());
    assert.equal(control.code, status.NOT_FOUND, `control: ${control.code} ${control.details}`);

    const codes = new Map<number, number>();
    const runs = runsFor("grpc");
    const t0 = performance.now();
    // The method by index, so a counterexample prints the request and not the arbitraries.
    const request = fc.record({
      m: fc.nat({ max: METHODS.length - 1 }),
      who: fc.constantFrom("admin", "member"),
      raw: fc.boolean(),
    }).chain(({ m, who, raw }) => (raw ? fc.uint8Array({ maxLength: 512 }) : METHODS[m]!.random).map((body) => ({ path: METHODS[m]!.path, m, who, raw, body })));
    await fc.assert(
      fc.asyncProperty(request, async ({ m, who, raw, body }) => {
        const method = METHODS[m]!;
        const s = await call(clients[who]!, method, body);
        codes.set(s.code, (codes.get(s.code) ?? 0) + 1);
        assert.ok(ALLOWED.has(s.code), `${method.path} as ${who}${raw ? " (raw bytes)" : ""}: status ${status[s.code]} ${s.details}`);
        if (s.code === status.INVALID_ARGUMENT) {
          const named = raw ? ["request", ...method.fields] : method.fields;
          assert.ok(named.some((f) => s.details.includes(f)), `${method.path}: INVALID_ARGUMENT naming none of ${named.join(", ")}: ${s.details}`);
        }
      }),
      { ...fcParams("grpc"), numRuns: runs },
    );
    reportRate(`gRPC (${JSON.stringify(Object.fromEntries([...codes].map(([c, n]) => [status[c], n])))})`, runs, t0);
    const after = await call(clients.admin!, METHODS[1]!, ExplainRequest.encode(ExplainRequest.fromPartial({ namespace: "fuzz", name: "no-such-workload" })).finish());
    assert.equal(after.code, status.NOT_FOUND, "the server still answers");
    assert.equal(await controlPlaneStart(env.controlPlaneMetricsUrl), startedAt, "the control plane was not restarted");
  });
});
