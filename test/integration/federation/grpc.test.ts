import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { MemberCluster } from "../../../operator/src/api/types.ts";
import { AuditAction } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import {
  auditQueryHandler, BOOTSTRAP_ANNOTATIONS, BOOTSTRAP_NAMESPACE, createBootstrapToken, decisionMessage, explainHandler, FederationGrpcClient,
  FederationGrpcServer, MEMBER_ORG, residencyFactsOf, secretNameOf, simulateHandler,
} from "../../../operator/src/federation/grpc/index.ts";
import type { ClientTls } from "../../../operator/src/federation/grpc/index.ts";
import {
  ensureMemberStreams, ensureSharedStreams, FederationClient, parseNatsSecret, PermissionDeniedError, streams,
} from "../../../operator/src/federation/index.ts";
import { KubeHostApi } from "../../../operator/src/kube/index.ts";
import { systemClock } from "../../../operator/src/runtime/index.ts";
import { decisionOf, explainWorkload } from "../../../operator/src/scheduler/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectlOk } from "../kubectl.ts";
import { sampleAuditRecord, sampleHeartbeat, sampleIntent } from "../../support/samples.ts";
import { federationLedger } from "./ledger.ts";
import { connectAs, ensureMemberClusters, envSuffix, natsSecretOf, need, nextMatching, OpenSubscriptions, testLog, TEST_NAMESPACE, uid } from "./helpers.ts";

const HOUR = 3_600_000;

function tlsOf(env: FederationEnv, identity: "fr" | "de" | "admin"): ClientTls {
  return {
    caPem: readFileSync(need(env, "GRPC_CA")),
    certPem: readFileSync(need(env, `GRPC_CERT_${envSuffix(identity)}`)),
    keyPem: readFileSync(need(env, `GRPC_KEY_${envSuffix(identity)}`)),
  };
}

/** A member client certificate for `cluster`, signed by the federation's CA as hack/federation signs fr's and de's. */
function issueMemberCertificate({ env, cluster, dir }: { env: FederationEnv; cluster: string; dir: string }): ClientTls {
  const ca = need(env, "GRPC_CA");
  const caKey = path.join(path.dirname(ca), "ca-key.pem");
  const [key, csr, cert, ext] = ["key.pem", "req.csr", "cert.pem", "ext.cnf"].map((f) => path.join(dir, f)) as [string, string, string, string];
  writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:sovereign://${cluster}\n`);
  execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", `/O=${MEMBER_ORG}/CN=${cluster}`], { stdio: "ignore" });
  execFileSync("openssl", ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-set_serial", "0x01", "-days", "1", "-extfile", ext, "-out", cert], { stdio: "ignore" });
  return { caPem: readFileSync(ca), certPem: readFileSync(cert), keyPem: readFileSync(key) };
}

async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof Error && typeof (err as ServiceError).code === "number", `expected a gRPC error, got ${String(err)}`);
  return err as ServiceError;
}

describe("federation gRPC API over mutual TLS (real server, real host API server)", function () {
  let env: FederationEnv;
  let host: KubeHostApi;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  let server: FederationGrpcServer;
  let address: string;
  const clients: FederationGrpcClient[] = [];
  const natsClients: FederationClient[] = [];
  const subs = new OpenSubscriptions();
  /** Token Secrets and SovereignWorkloads a test made, deleted after it whatever its outcome. */
  const madeSecrets: string[] = [];
  const madeWorkloads: string[] = [];

  async function newToken({ cluster, now = new Date() }: { cluster: string; now?: Date }): Promise<string> {
    const t = await createBootstrapToken({ host, cluster, now, ttlMs: HOUR });
    madeSecrets.push(secretNameOf(t.slice(0, 6)));
    return t;
  }

  function client(tls: ClientTls): FederationGrpcClient {
    const c = new FederationGrpcClient({ address, tls, deadlineMs: 15_000, serverName: "localhost" });
    clients.push(c);
    return c;
  }

  before(async function () {
    this.timeout(180_000);
    env = readFederationEnv();
    ensureMemberClusters(env);
    host = new KubeHostApi({ source: { kubeconfigFile: env.hostKubeconfig } });
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    await ensureSharedStreams(jsm, { streams: { replicas: env.natsStreamReplicas } });
    const clock = systemClock;
    server = new FederationGrpcServer({
      tls: {
        caPem: readFileSync(need(env, "GRPC_CA")),
        certPem: readFileSync(need(env, "GRPC_SERVER_CERT")),
        keyPem: readFileSync(need(env, "GRPC_SERVER_KEY")),
      },
      join: {
        host,
        credentials: async (cluster) => (env.vars[`NATS_CREDS_${envSuffix(cluster)}`] ? natsSecretOf(env, cluster) : undefined),
        natsServers: [env.natsUrl],
        natsCaPem: readFileSync(need(env, "NATS_CA"), "utf8"),
        prepareMember: (cluster) => ensureMemberStreams(jsm, cluster, { streams: { replicas: env.natsStreamReplicas } }),
        clock,
        log: testLog,
      },
      handlers: { explain: explainHandler({ host, clock }), simulate: simulateHandler({ clock }), audit: auditQueryHandler({ jsm, js: cp.js }) },
      log: testLog,
    });
    // Port 0: parallel runs never collide; loopback only.
    address = `127.0.0.1:${await server.start("127.0.0.1:0")}`;
  });

  afterEach(async () => {
    await subs.stopAll();
    await Promise.all(madeSecrets.splice(0).map((name) => host.deleteSecret(BOOTSTRAP_NAMESPACE, name)));
    for (const name of madeWorkloads.splice(0)) {
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["delete", "sovereignworkload", name, "-n", TEST_NAMESPACE, "--ignore-not-found", "--wait=false"] });
    }
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.allSettled(natsClients.map((c) => c.drain()));
    await server?.stop();
    await cp?.drain();
  });

  describe("transport security", () => {
    it("refuses a client that presents no certificate, before any method runs", async () => {
      const anonymous = client({ caPem: readFileSync(need(env, "GRPC_CA")) });
      const token = await newToken({ cluster: "fr", now: new Date() });
      const err = await grpcError(anonymous.join({ cluster: "fr", bootstrapToken: token, agentVersion: "test" }));
      assert.equal(err.code, status.UNAVAILABLE);
      // The token was never looked at, let alone consumed.
      const secret = await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(token.slice(0, 6)));
      assert.equal(secret?.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt], undefined);
      // Positive control: the same call with fr's certificate succeeds, so UNAVAILABLE
      // above was the missing certificate, not a server that is down or a bad request.
      assert.equal((await client(tlsOf(env, "fr")).join({ cluster: "fr", bootstrapToken: token, agentVersion: "test" })).cluster, "fr");
    });

    it("refuses a client certificate that another CA signed", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "rogue-ca-"));
      try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
          "-subj", "/O=sovereign-federation member/CN=fr", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
        const rogue = client({ caPem: readFileSync(need(env, "GRPC_CA")), certPem: readFileSync(path.join(dir, "cert.pem")), keyPem: readFileSync(path.join(dir, "key.pem")) });
        const token = await newToken({ cluster: "fr", now: new Date() });
        const err = await grpcError(rogue.join({ cluster: "fr", bootstrapToken: token, agentVersion: "test" }));
        assert.equal(err.code, status.UNAVAILABLE);
        // Positive control: the same call with the certificate our CA signed for fr succeeds.
        assert.equal((await client(tlsOf(env, "fr")).join({ cluster: "fr", bootstrapToken: token, agentVersion: "test" })).cluster, "fr");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("lets a member certificate Join only: Explain, Simulate and Audit need the admin's", async () => {
      const fr = client(tlsOf(env, "fr"));
      for (const call of [fr.explain({ namespace: "x", name: "y", now: undefined }), fr.simulate({ documents: ["{}"], now: undefined })]) {
        const err = await grpcError(call);
        assert.equal(err.code, status.PERMISSION_DENIED);
        assert.match(err.details, /needs an admin client certificate; this one is O=sovereign-federation member, CN=fr/);
      }
      const err = await grpcError((async () => { for await (const _ of fr.queryAudit({ namespace: "", name: "", cluster: "", country: "", range: undefined, limit: 0 })) { /* none */ } })());
      assert.equal(err.code, status.PERMISSION_DENIED);
    });
  });

  describe("Join", () => {
    const join = (tls: ClientTls, cluster: string, bootstrapToken: string) => client(tls).join({ cluster, bootstrapToken, agentVersion: "0.1.0-test" });

    it("refuses a wrong token", async () => {
      await newToken({ cluster: "fr", now: new Date() });
      const err = await grpcError(join(tlsOf(env, "fr"), "fr", "abcdef.0123456789abcdef"));
      assert.equal(err.code, status.UNAUTHENTICATED);
      assert.equal(err.details, "bootstrap token is not valid");
      const malformed = await grpcError(join(tlsOf(env, "fr"), "fr", "not-a-token"));
      assert.equal(malformed.code, status.UNAUTHENTICATED);
      assert.match(malformed.details, /malformed/);
    });

    it("lets exactly one of 12 concurrent Joins with one token through, and refuses the others as a reuse", async () => {
      const token = await newToken({ cluster: "fr" });
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => join(tlsOf(env, "fr"), "fr", token)));
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, results.map((r) => r.status).join(", "));
      for (const r of results) {
        if (r.status === "fulfilled") continue;
        const err = r.reason as ServiceError;
        assert.equal(err.code, status.UNAUTHENTICATED, String(err));
        assert.match(err.details, /already used at .*single-use|being used concurrently/);
      }
    });

    it("refuses a wrong secret for an existing token id like an unknown token, and the token stays usable", async () => {
      const token = await newToken({ cluster: "fr" });
      const [id, secret] = token.split(".") as [string, string];
      const err = await grpcError(join(tlsOf(env, "fr"), "fr", `${id}.${secret[0] === "a" ? "b" : "a"}${secret.slice(1)}`));
      assert.equal(err.code, status.UNAUTHENTICATED);
      assert.equal(err.details, "bootstrap token is not valid");
      // Positive control: the right secret for the same id is accepted afterwards.
      assert.equal((await join(tlsOf(env, "fr"), "fr", token)).cluster, "fr");
    });

    it("answers NOT_FOUND to a member whose MemberCluster the host does not have, leaving its token unused", async () => {
      const ghost = `ghost-${uid().slice(0, 8)}`;
      const dir = mkdtempSync(path.join(tmpdir(), "ghost-cert-"));
      try {
        const tls = issueMemberCertificate({ env, cluster: ghost, dir });
        const token = await newToken({ cluster: ghost });
        const err = await grpcError(join(tls, ghost, token));
        assert.equal(err.code, status.NOT_FOUND);
        assert.match(err.details, new RegExp(`MemberCluster "${ghost}" does not exist on the host`));
        const stored = await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(token.slice(0, 6)));
        assert.equal(stored?.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt], undefined);
        // Positive control: the same certificate authority's certificate for fr, with a token for fr, joins.
        assert.equal((await join(tlsOf(env, "fr"), "fr", await newToken({ cluster: "fr" }))).cluster, "fr");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses an expired token, saying when it expired", async () => {
      const token = await newToken({ cluster: "fr", now: new Date(Date.now() - 2 * HOUR) });
      const err = await grpcError(join(tlsOf(env, "fr"), "fr", token));
      assert.equal(err.code, status.UNAUTHENTICATED);
      assert.match(err.details, /^bootstrap token expired at \d{4}-\d\d-\d\dT/);
    });

    it("accepts a token once and refuses it when reused", async () => {
      const token = await newToken({ cluster: "fr", now: new Date() });
      assert.equal((await join(tlsOf(env, "fr"), "fr", token)).cluster, "fr");
      const err = await grpcError(join(tlsOf(env, "fr"), "fr", token));
      assert.equal(err.code, status.UNAUTHENTICATED);
      assert.match(err.details, /already used at .*single-use/);
    });

    it("accepts a token made by the admin with `kubectl sovereign token create`, and the plugin refuses a cluster the host does not know", () => {
      const plugin = path.join(repoRoot, "bin", "kubectl-sovereign");
      const made = spawnSync(plugin, ["token", "create", "fr", "--ttl", "10m", "--kubeconfig", env.hostKubeconfig], { encoding: "utf8" });
      assert.equal(made.status, 0, made.stderr);
      assert.match(made.stderr, /bootstrap token for MemberCluster fr, single use, valid until /);
      const token = made.stdout.trim();
      madeSecrets.push(secretNameOf(token.slice(0, 6)));
      assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      const unknown = spawnSync(plugin, ["token", "create", `nowhere-${uid().slice(0, 8)}`, "--kubeconfig", env.hostKubeconfig], { encoding: "utf8" });
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /MemberCluster "nowhere-[0-9a-f]+" does not exist on the host/);
      return join(tlsOf(env, "fr"), "fr", token).then((res) => assert.equal(res.cluster, "fr"));
    });

    it("refuses a member certificate joining as another member, the same whether that member exists or not", async () => {
      // No existence oracle: fr's certificate learns nothing about which clusters the host knows.
      const unknown = await grpcError(join(tlsOf(env, "fr"), `nowhere-${uid().slice(0, 8)}`, "abcdef.0123456789abcdef"));
      assert.equal(unknown.code, status.PERMISSION_DENIED);
      assert.match(unknown.details, /CN=fr\) may not join as member "nowhere-[0-9a-f]+"/);
      const token = await newToken({ cluster: "de", now: new Date() });
      const impostor = await grpcError(join(tlsOf(env, "fr"), "de", token));
      assert.equal(impostor.code, status.PERMISSION_DENIED);
      assert.match(impostor.details, /CN=fr\) may not join as member "de"/);
      // Not consumed: de's own agent can still use it.
      assert.equal((await join(tlsOf(env, "de"), "de", token)).cluster, "de");
    });

    it("binds fr to its existing MemberCluster and returns NATS credentials that work for fr and fail for de", async () => {
      const before = (await host.getMemberCluster("fr"))!;
      const token = await newToken({ cluster: "fr", now: new Date() });
      const res = await join(tlsOf(env, "fr"), "fr", token);
      assert.equal(res.cluster, "fr");
      assert.deepEqual(res.subjects, { intents: "sov.v1.fr.intents.*", heartbeat: "sov.v1.fr.heartbeat", status: "sov.v1.fr.status.*", intentsStream: "sov-intents-fr", intentsConsumer: "sov-agent-fr" });
      assert.deepEqual(res.residency, residencyFactsOf(before));
      assert.deepEqual(res.nats?.servers, [env.natsUrl]);

      // Recorded: the Secret says when and by whom; the MemberCluster says Joined; its spec is untouched.
      const used = await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(token.slice(0, 6)));
      assert.match(used?.annotations?.[BOOTSTRAP_ANNOTATIONS.usedBy] ?? "", /CN=fr; agent 0\.1\.0-test/);
      const after = (await host.getMemberCluster("fr")) as MemberCluster;
      assert.deepEqual(after.spec, before.spec);
      assert.equal(after.status?.conditions?.find((c) => c.type === "Joined")?.status, "True");

      // The agent connects with exactly what Join returned.
      const agent = await FederationClient.connect({
        servers: res.nats!.servers, identity: { member: "fr" }, caPem: res.nats!.caPem,
        secret: res.nats!.creds ? parseNatsSecret(res.nats!.creds) : { nkeySeed: res.nats!.nkeySeed }, log: testLog,
      });
      natsClients.push(agent);
      const intent = sampleIntent({ workload: { namespace: "health", name: "joined", uid: uid() }, decidedAt: new Date() });
      await cp.publish.intent(intent);
      const sub = subs.track(agent.intents(res.subjects!.intentsStream.replace(/^sov-intents-/, "")));
      const got = await nextMatching({ sub, matches: (d) => d.message.workload?.uid === intent.workload!.uid, what: "the intent published after the Join" });
      await got.ack();
      await sub.stop();
      assert.equal((await agent.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: 1 }))).stream, streams.heartbeats);

      const asDe = await agent.publish.heartbeat(sampleHeartbeat({ cluster: "de", sentAt: new Date() })).then(() => undefined, (e: unknown) => e);
      assert.ok(asDe instanceof PermissionDeniedError, String(asDe));
      const deIntents = await agent.intents("de")[Symbol.asyncIterator]().next().then(() => undefined, (e: unknown) => e);
      assert.ok(deIntents instanceof PermissionDeniedError, String(deIntents));
    });
  });

  describe("Explain, Simulate and Audit", () => {
    it("explains a workload on the host with the scheduler's planned decision", async () => {
      const name = `explained-${uid().slice(0, 8)}`;
      const workload = {
        apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name, namespace: TEST_NAMESPACE },
        spec: { replicas: 2, residency: { allowedCountries: ["FR"] }, template: { spec: { containers: [{ name: "app", image: "registry.invalid/app:1" }] } } },
      };
      madeWorkloads.push(name);
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["apply", "-f", "-"], input: JSON.stringify(workload) });
      const now = new Date("2026-11-28T10:00:00Z");
      // The same decision the scheduler takes locally from the same host objects. The running
      // control plane may write the workload's status (and heartbeats the clusters') while we
      // read, so compare only an Explain taken while none of the objects it reads changed.
      const snapshot = async () => {
        const [stored, clusters, policies, workloads] = await Promise.all([
          host.getSovereignWorkload(TEST_NAMESPACE, name), host.listMemberClusters(), host.listResidencyPolicies(), host.listSovereignWorkloads(),
        ]);
        const versions = [stored, ...clusters, ...policies, ...workloads].map((o) => `${o?.metadata?.uid}@${o?.metadata?.resourceVersion}`).join(",");
        return { stored: stored!, clusters, policies, workloads, versions };
      };
      const deadline = Date.now() + 30_000;
      let res: Awaited<ReturnType<FederationGrpcClient["explain"]>>;
      let after: Awaited<ReturnType<typeof snapshot>>;
      for (;;) {
        const before = await snapshot();
        res = await client(tlsOf(env, "admin")).explain({ namespace: TEST_NAMESPACE, name, now });
        after = await snapshot();
        if (after.versions === before.versions) break;
        assert.ok(Date.now() < deadline, "the host objects Explain reads kept changing for 30 s");
      }
      const expected = decisionOf(explainWorkload({ workload: after.stored, clusters: after.clusters, policies: after.policies, workloads: after.workloads, now: now.getTime() }));
      assert.deepEqual(res.decision, decisionMessage(expected));
      assert.equal(res.decision?.workload, `${TEST_NAMESPACE}/${name}`);
      // de is in the wrong country whatever its state.
      assert.ok(res.decision?.rejected.find((r) => r.cluster === "de")?.reasons.includes("CountryNotAllowed"));

      const missing = await grpcError(client(tlsOf(env, "admin")).explain({ namespace: TEST_NAMESPACE, name: "absent", now: undefined }));
      assert.equal(missing.code, status.NOT_FOUND);
    });

    it("simulates documents exactly as `kubectl sovereign simulate` does, and names the bad document otherwise", async () => {
      const dir = path.join(repoRoot, "crds", "examples");
      const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
      const now = "2026-11-28T00:00:00Z";
      const res = await client(tlsOf(env, "admin")).simulate({ documents: files.map((f) => readFileSync(path.join(dir, f), "utf8")), now: new Date(now) });
      const cli = spawnSync(path.join(repoRoot, "bin", "kubectl-sovereign"), ["simulate", "-f", dir, "--now", now, "-o", "json"], { encoding: "utf8" });
      assert.equal(cli.status, 0, cli.stderr);
      const expected = (JSON.parse(cli.stdout) as { decisions: unknown[] }).decisions;
      assert.ok(expected.length > 0);
      assert.deepEqual(res.decisions.map((d) => ({ ...d, rejected: d.rejected.map((r) => ({ cluster: r.cluster, reasons: r.reasons })) })), expected);

      const bad = await grpcError(client(tlsOf(env, "admin")).simulate({ documents: ["apiVersion: sovereignty.eu/v1alpha1\nkind: Spaceship\nmetadata: {name: x}\n"], now: undefined }));
      assert.equal(bad.code, status.INVALID_ARGUMENT);
      assert.match(bad.details, /documents\[0\] document 1/);
    });

    it("streams the audit trail of one workload, oldest first, filtered and limited", async () => {
      const workload = { namespace: "health", name: `audited-${uid().slice(0, 8)}`, uid: uid() };
      const since = new Date(Date.now() - 1000);
      const records = [
        sampleAuditRecord({ recordId: `a-${uid()}`, workload, action: AuditAction.AUDIT_ACTION_PLACED, cluster: "fr", country: "FR", time: new Date(), reasons: [], fromCluster: "" }),
        sampleAuditRecord({ recordId: `b-${uid()}`, workload, action: AuditAction.AUDIT_ACTION_REJECTED, cluster: "de", country: "DE", facts: { ...sampleAuditRecord().facts!, country: "DE" }, replicas: 0, time: new Date(), reasons: ["CountryNotAllowed"], fromCluster: "" }),
        sampleAuditRecord({ recordId: `c-${uid()}`, workload, action: AuditAction.AUDIT_ACTION_MOVED, cluster: "fr", country: "FR", time: new Date() }),
      ];
      const seqs: number[] = [];
      const ledger = await federationLedger(env, cp);
      for (const r of records) seqs.push((await ledger.appendAudit(r)).streamSequence);
      const admin = client(tlsOf(env, "admin"));
      const query = async (q: Partial<Parameters<FederationGrpcClient["queryAudit"]>[0]>) => {
        const out = [];
        for await (const r of admin.queryAudit({ namespace: "", name: "", cluster: "", country: "", range: { since, until: undefined }, limit: 0, ...q })) out.push(r);
        return out;
      };
      const all = await query({ namespace: workload.namespace, name: workload.name });
      assert.deepEqual(all.map((r) => r.record), records);
      assert.deepEqual(all.map((r) => r.streamSequence), seqs);
      assert.deepEqual((await query({ name: workload.name, country: "DE" })).map((r) => r.record?.recordId), [records[1]!.recordId]);
      assert.deepEqual((await query({ name: workload.name, cluster: "fr", limit: 1 })).map((r) => r.record?.recordId), [records[0]!.recordId]);
      const bad = await grpcError(query({ country: "france" }));
      assert.equal(bad.code, status.INVALID_ARGUMENT);
    });
  });
});
