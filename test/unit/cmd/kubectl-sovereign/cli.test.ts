import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { runCli } from "../../../../operator/src/cmd/kubectl-sovereign/cli.ts";
import { COMMAND_NAMES } from "../../../../operator/src/cmd/kubectl-sovereign/commands.ts";
import { parseSimulateOptions } from "../../../../operator/src/cmd/kubectl-sovereign/options.ts";
import { TestClock } from "../../../../operator/src/runtime/index.ts";
import { ApiStatusError, KubeError } from "../../../../operator/src/kube/index.ts";
import { Decision } from "../../../../operator/src/gen/sovereign/v1/federation.ts";
import { memberCluster, sovereignWorkload } from "../../../support/builders.ts";
import { GRPC_ENVIRONMENT, GRPC_FILES, testEnv } from "./cli-env.ts";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateLedger } from "../../ledger/generate.ts";

function grpcError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details });
}

describe("kubectl sovereign command line", () => {
  const usageCases = [
    { name: "requires -f", argv: ["simulate"], message: /-f\/--filename is required/ },
    { name: "refuses an output format other than json or table", argv: ["simulate", "-f", "x.yaml", "-o", "yaml"], message: /-o\/--output: "yaml" is not json or table/ },
    { name: "refuses a --now that is not a time", argv: ["simulate", "-f", "x.yaml", "--now", "yesterday"], message: /--now: "yesterday" is not an RFC 3339 time/ },
    { name: "refuses an unknown flag", argv: ["simulate", "-f", "x.yaml", "--dry-run"], message: /Unknown option '--dry-run'/ },
    { name: "refuses simulate's positional arguments", argv: ["simulate", "x.yaml"], message: /unexpected arguments: x.yaml \(files are given with -f\)/ },
    { name: "refuses an unknown command", argv: ["apply"], message: /unknown command "apply"/ },
    { name: "refuses help about an unknown command", argv: ["help", "apply"], message: /unknown command "apply"/ },
    { name: "refuses token without a verb", argv: ["token"], message: /token needs a verb: create/ },
    { name: "refuses token create without a cluster", argv: ["token", "create"], message: /needs the MemberCluster's name/ },
    { name: "refuses a cluster name that cannot be a NATS subject token", argv: ["token", "create", "fr.de"], message: /CLUSTER: / },
    { name: "refuses a --ttl that is not a duration", argv: ["token", "create", "fr", "--ttl", "forever"], message: /--ttl: "forever" is not a duration between 1m and 7d/ },
    { name: "refuses a --ttl longer than a week", argv: ["token", "create", "fr", "--ttl", "8d"], message: /--ttl: "8d"/ },
    { name: "refuses status without a workload", argv: ["status"], message: /status needs the SovereignWorkload's name/ },
    { name: "refuses status with two workloads", argv: ["status", "a", "b"], message: /unexpected arguments: b/ },
    { name: "refuses a workload name that is not a Kubernetes name", argv: ["status", "Patient_Records"], message: /WORKLOAD: "Patient_Records" is not a valid Kubernetes name/ },
    { name: "refuses a namespace that is not a DNS label", argv: ["status", "a", "-n", "a.b"], message: /-n\/--namespace: "a.b" is not a valid namespace name/ },
    { name: "refuses an output format it does not print", argv: ["status", "a", "-o", "wide"], message: /-o\/--output: "wide" is not one of table, json, yaml/ },
    { name: "refuses an unknown flag of status", argv: ["status", "a", "--all-namespaces"], message: /Unknown option '--all-namespaces'/ },
    { name: "refuses clusters with an argument", argv: ["clusters", "ovh-par-1"], message: /unexpected arguments: ovh-par-1/ },
    { name: "refuses a partial break-glass gRPC endpoint, naming every missing flag and variable", argv: ["explain", "a", "--grpc-server-name", "cp"], message: /needs --grpc-address \(or SOVEREIGN_GRPC_ADDRESS\), --grpc-ca \(or SOVEREIGN_GRPC_CA\), --grpc-cert \(or SOVEREIGN_GRPC_CERT\), --grpc-key \(or SOVEREIGN_GRPC_KEY\)/ },
    { name: "refuses an unknown flag of explain (kubectl's own are known)", argv: ["explain", "a", "--context", "c", "--cluster", "x"], message: /Unknown option '--cluster'/ },
    { name: "refuses a --grpc-address without a port", argv: ["explain", "a", "--grpc-address", "cp.example", "--grpc-ca", "c", "--grpc-cert", "c", "--grpc-key", "k"], message: /--grpc-address: "cp.example" is not HOST:PORT/ },
    { name: "refuses explain --now that is not a time", argv: ["explain", "a", "--now", "soon"], message: /--now: "soon" is not an RFC 3339 time/ },
    { name: "refuses audit --since that is neither a time nor a duration", argv: ["audit", "a", "--since", "1w"], message: /--since: "1w" is neither a time .* nor a duration/ },
    { name: "refuses audit --limit 0", argv: ["audit", "a", "--limit", "0"], message: /--limit: "0" is not a whole number/ },
    { name: "refuses completion without a shell", argv: ["completion"], message: /completion needs a shell: bash or zsh/ },
    { name: "refuses completion for a shell it has no script for", argv: ["completion", "fish"], message: /completion: "fish" is not bash or zsh/ },
    { name: "refuses no command at all", argv: [], message: /a command is required/ },
  ];
  for (const c of usageCases) {
    it(`${c.name}, with exit status 2 and the usage on stderr`, async () => {
      const e = testEnv();
      assert.equal(await runCli({ argv: c.argv, env: e }), 2);
      assert.match(e.stderrText(), c.message);
      assert.match(e.stderrText(), /Usage: kubectl sovereign/);
      assert.equal(e.stdoutText(), "");
    });
  }

  it("lists every command in --help, with exit status 0", async () => {
    const e = testEnv();
    assert.equal(await runCli({ argv: ["--help"], env: e }), 0);
    for (const name of ["status", "explain", "clusters", "audit", "report", "simulate", "token", "completion"]) assert.match(e.stdoutText(), new RegExp(`^  ${name} `, "m"));
    assert.equal(COMMAND_NAMES.length, 8);
  });

  for (const name of COMMAND_NAMES) {
    it(`prints ${name}'s help with every one of its flags, with exit status 0`, async () => {
      const e = testEnv();
      assert.equal(await runCli({ argv: [name, "--help"], env: e }), 0);
      assert.match(e.stdoutText(), new RegExp(`Usage: kubectl sovereign ${name}`));
      const { COMMANDS } = await import("../../../../operator/src/cmd/kubectl-sovereign/commands.ts");
      for (const f of COMMANDS[name].flags) if (f.name !== "help") assert.ok(e.stdoutText().includes(`--${f.name}`), `--${f.name} in ${name}'s help`);
    });
  }

  it("defaults --now to the clock and -o to json", () => {
    assert.deepEqual(parseSimulateOptions({ args: ["-f", "a.yaml", "--filename", "b.yaml"], clock: new TestClock(42) }), { files: ["a.yaml", "b.yaml"], now: 42, output: "json" });
  });

  it("reads a date-only --now as midnight UTC", () => {
    const o = parseSimulateOptions({ args: ["-f", "a.yaml", "--now", "2026-11-28"], clock: new TestClock(0) });
    assert.equal(o !== "help" && o.now, Date.parse("2026-11-28T00:00:00Z"));
  });

  it("prints an empty decision list for input without workloads", async () => {
    const e = testEnv({ files: { "empty.yaml": "---\n" } });
    assert.equal(await runCli({ argv: ["simulate", "-f", "empty.yaml"], env: e }), 0);
    assert.deepEqual(JSON.parse(e.stdoutText()), { decisions: [] });
  });
});

describe("kubectl sovereign exit statuses of the live commands", () => {
  it("status of a missing workload fails with exit status 1, naming the workload and namespace as kubectl does", async () => {
    const e = testEnv({ host: { getSovereignWorkload: async () => undefined } });
    assert.equal(await runCli({ argv: ["status", "patient-records", "-n", "health"], env: e }), 1);
    assert.equal(e.stderrText(), `Error from server (NotFound): SovereignWorkload "patient-records" not found in namespace "health"\n`);
  });

  it("status of an existing workload succeeds (positive control of the NotFound case)", async () => {
    const asked: string[] = [];
    const e = testEnv({ host: { getSovereignWorkload: async (ns, name) => (asked.push(`${ns}/${name}`), sovereignWorkload({ name, namespace: ns })) } });
    assert.equal(await runCli({ argv: ["status", "patient-records", "-n", "health", "-o", "json"], env: e }), 0);
    assert.deepEqual(asked, ["health/patient-records"]);
    assert.equal(JSON.parse(e.stdoutText()).workload, "health/patient-records");
  });

  it("an unreachable host fails with exit status 1 and names the kubeconfig to check", async () => {
    const e = testEnv({ host: { listMemberClusters: async () => { throw new KubeError("list memberclusters: API server answered nothing: connect ECONNREFUSED 127.0.0.1:6443", { status: 0, retryable: true }); } } });
    assert.equal(await runCli({ argv: ["clusters", "--kubeconfig", "/tmp/host.kubeconfig"], env: e }), 1);
    assert.match(e.stderrText(), /^error: cannot reach the host API server of kubeconfig \/tmp\/host\.kubeconfig: .*ECONNREFUSED.*--kubeconfig/);
  });

  it("names the innermost cause of an unreachable host, which client-node hides behind \"fetch failed\"", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    const fetchFailed = new TypeError("fetch failed", { cause: refused });
    const e = testEnv({ host: { listMemberClusters: async () => { throw new KubeError("list memberclusters: API server answered nothing: fetch failed", { status: 0, retryable: true, cause: fetchFailed }); } } });
    assert.equal(await runCli({ argv: ["clusters"], env: e }), 1);
    assert.match(e.stderrText(), /of the default kubeconfig \(\$KUBECONFIG, then ~\/\.kube\/config\): list memberclusters: API server answered nothing: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:6443\)\. Check/);
  });

  it("explain of a missing workload fails with exit status 1 and the control plane's words", async () => {
    const e = testEnv({ files: GRPC_FILES, environment: GRPC_ENVIRONMENT, controlPlane: { explain: async () => { throw grpcError(status.NOT_FOUND, "SovereignWorkload health/nope does not exist on the host"); } } });
    assert.equal(await runCli({ argv: ["explain", "nope", "-n", "health"], env: e }), 1);
    assert.equal(e.stderrText(), "Error from server (NotFound): SovereignWorkload health/nope does not exist on the host\n");
  });

  it("an unreachable control plane fails with exit status 1, naming the address and what to check", async () => {
    const e = testEnv({ files: GRPC_FILES, environment: GRPC_ENVIRONMENT, controlPlane: { explain: async () => { throw grpcError(status.UNAVAILABLE, "No connection established"); } } });
    assert.equal(await runCli({ argv: ["explain", "a"], env: e }), 1);
    assert.match(e.stderrText(), /^error: cannot reach the control plane's gRPC endpoint at 127\.0\.0\.1:20904 \(UNAVAILABLE: No connection established\)\. Check that the control plane runs .*--grpc-address or SOVEREIGN_GRPC_ADDRESS.*--grpc-ca/);
  });

  it("a refused client certificate says that the admin certificate is needed", async () => {
    const e = testEnv({ files: GRPC_FILES, environment: GRPC_ENVIRONMENT, controlPlane: { queryAudit: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => { throw grpcError(status.PERMISSION_DENIED, "Audit.Query needs an admin client certificate; this one is O=member"); } }) }) } });
    assert.equal(await runCli({ argv: ["audit", "a"], env: e }), 1);
    assert.match(e.stderrText(), /refused Audit\.Query: .*needs the federation's admin client certificate \(--grpc-cert, --grpc-key\)/);
  });

  it("an unreadable certificate file is an input error (exit status 2) naming the flag and the file", async () => {
    const e = testEnv({ files: { "ca.pem": "CA", "admin.pem": "CERT" }, environment: GRPC_ENVIRONMENT, controlPlane: {} });
    assert.equal(await runCli({ argv: ["explain", "a"], env: e }), 2);
    assert.match(e.stderrText(), /--grpc-key: cannot read "admin-key\.pem": ENOENT/);
    assert.equal(e.opened.length, 0, "no connection is opened with a missing key");
  });

  it("opens the connection with the PEM contents, flags taking precedence over the environment", async () => {
    const e = testEnv({ files: { ...GRPC_FILES, "other-ca.pem": "OTHER CA" }, environment: GRPC_ENVIRONMENT, controlPlane: { queryAudit: async function* () { yield* []; } } });
    assert.equal(await runCli({ argv: ["audit", "a", "--grpc-ca", "other-ca.pem", "--grpc-address", "10.0.0.1:443"], env: e }), 0);
    assert.deepEqual(e.opened, [{ address: "10.0.0.1:443", tls: { caPem: "OTHER CA", certPem: "CERT", keyPem: "KEY" }, serverName: undefined }]);
    assert.equal(e.stdoutText(), "No audit records for default/a.\n");
  });

  it("closes the control plane's connection after a failed call too", async () => {
    let closed = 0;
    const e = testEnv({ files: GRPC_FILES, environment: GRPC_ENVIRONMENT, controlPlane: { close: () => void closed++, explain: async () => { throw grpcError(status.INTERNAL, "boom"); } } });
    assert.equal(await runCli({ argv: ["explain", "a"], env: e }), 1);
    assert.equal(closed, 1);
    assert.match(e.stderrText(), /answered Explain with INTERNAL: boom/);
  });

  it("explain and audit go through the host's query API with the kubeconfig's identity, -n defaulting to the context's namespace", async () => {
    const asked: string[] = [];
    const decision: Decision = { workload: "customers/crm", scheduled: true, reason: "Scheduled", message: "ok", placements: [{ cluster: "ovh-par-1", country: "FR", replicas: 2 }], rejected: [], unselected: [] };
    const e = testEnv({
      contextNamespace: "customers",
      query: { getJson: async (p) => (asked.push(p), p.includes("/explain") ? { kind: "Explanation", decision: Decision.toJSON(decision) } : { kind: "AuditTrail", records: [] }) },
    });
    assert.equal(await runCli({ argv: ["explain", "crm", "--kubeconfig", "/k", "--context", "host"], env: e }), 0, e.stderrText());
    assert.match(e.stdoutText(), /^CLUSTER\s+RESULT\s+COUNTRY/);
    assert.match(e.stdoutText(), /ovh-par-1\s+placed\s+FR\s+2/);
    assert.equal(await runCli({ argv: ["audit", "crm", "-n", "health", "--since", "2026-11-01", "--limit", "3"], env: e }), 0, e.stderrText());
    assert.deepEqual(asked, [
      "/apis/query.sovereignty.eu/v1alpha1/namespaces/customers/sovereignworkloads/crm/explain",
      "/apis/query.sovereignty.eu/v1alpha1/namespaces/health/sovereignworkloads/crm/audit?since=2026-11-01T00%3A00%3A00.000Z&limit=3",
    ]);
    assert.deepEqual(e.kubeOpened, [{ kubeconfig: "/k", context: "host" }, { kubeconfig: undefined, context: undefined }]);
    assert.equal(e.opened.length, 0, "no gRPC connection without a --grpc-* flag");
  });

  it("a 403 of the query API exits 1 naming the missing permission and the roles that grant it", async () => {
    const forbidden = new ApiStatusError({ status: 403, reason: "Forbidden", message: `sovereignworkloads.query.sovereignty.eu "crm" is forbidden: User "bob" cannot get resource "sovereignworkloads/explain" in API group "query.sovereignty.eu" in the namespace "customers"` });
    const e = testEnv({ query: { getJson: async () => { throw forbidden; } } });
    assert.equal(await runCli({ argv: ["explain", "crm", "-n", "customers"], env: e }), 1);
    assert.match(e.stderrText(), /^error: the host API server \(the default kubeconfig .*\) refused \(Forbidden\): .*cannot get resource "sovereignworkloads\/explain".*This needs RBAC "get" on "sovereignworkloads\/explain" in API group "query\.sovereignty\.eu"; the roles sovereign-viewer or sovereign-admin grant it\n$/);
  });

  it("a missing workload, a missing APIService and a control plane down each get their own words", async () => {
    const answers = [
      { err: new ApiStatusError({ status: 404, reason: "NotFound", message: "SovereignWorkload customers/nope does not exist on the host" }), expect: /^Error from server \(NotFound\): SovereignWorkload customers\/nope does not exist on the host\n$/ },
      { err: new ApiStatusError({ status: 404, reason: "NotFound", message: "the server could not find the requested resource" }), expect: /does not serve query\.sovereignty\.eu\/v1alpha1: install the control-plane chart with query\.enabled \(APIService v1alpha1\.query\.sovereignty\.eu\)/ },
      { err: new ApiStatusError({ status: 503, reason: "ServiceUnavailable", message: "service unavailable" }), expect: /cannot reach the control plane's query API .*kubectl get apiservice v1alpha1\.query\.sovereignty\.eu/ },
    ];
    for (const a of answers) {
      const e = testEnv({ query: { getJson: async () => { throw a.err; } } });
      assert.equal(await runCli({ argv: ["audit", "nope", "-n", "customers"], env: e }), 1);
      assert.match(e.stderrText(), a.expect);
    }
  });

  it("a 403 of the host on status names the missing permission and the chart's roles", async () => {
    const body = JSON.stringify({ kind: "Status", status: "Failure", message: `sovereignworkloads.sovereignty.eu "b" is forbidden: User "bob" cannot get resource "sovereignworkloads"`, reason: "Forbidden", code: 403 }).slice(0, 160);
    const e = testEnv({ host: { getSovereignWorkload: async () => { throw new KubeError(`SovereignWorkload a/b: API server answered 403: ${body}`, { status: 403, retryable: false }); } } });
    assert.equal(await runCli({ argv: ["status", "b", "-n", "a"], env: e }), 1);
    assert.equal(e.stderrText(), `error: the host API server (the default kubeconfig ($KUBECONFIG, then ~/.kube/config)) refused: sovereignworkloads.sovereignty.eu "b" is forbidden: User "bob" cannot get resource "sovereignworkloads". Ask for a binding to one of the control-plane chart's roles (sovereign-viewer, sovereign-auditor, sovereign-admin) that grants it\n`);
  });

  it("token create prints the token on stdout and the helm command on stderr", async () => {
    const secrets: string[] = [];
    const e = testEnv({
      environment: { SOVEREIGN_NATS_URL: "tls://nats.example:4222" },
      host: { getMemberCluster: async (name) => memberCluster({ name }), createSecret: async (s) => (secrets.push(s.name), s) },
    });
    assert.equal(await runCli({ argv: ["token", "create", "ovh-par-1", "--grpc-address", "cp.example:443"], env: e }), 0);
    const token = e.stdoutText().trim();
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.equal(secrets.length, 1);
    assert.ok(e.stderrText().includes(
      `helm install sovereign-agent charts/member-agent --namespace sovereign-system --create-namespace --set cluster.name=ovh-par-1 --set controlPlane.grpcAddress=cp.example:443 --set controlPlane.natsUrl=tls://nats.example:4222 --set join.bootstrapToken=${token} --set tls.existingSecret=sovereign-agent-tls\n`,
    ), e.stderrText());
    assert.doesNotMatch(e.stderrText(), /Before running it/);
  });

  it("token create keeps the token in the control plane's namespace: sovereign-system, or --control-plane-namespace", async () => {
    for (const [args, want] of [[[], "sovereign-system"], [["--control-plane-namespace", "platform"], "platform"]] as const) {
      const namespaces: string[] = [];
      const e = testEnv({ host: { getMemberCluster: async (name) => memberCluster({ name }), createSecret: async (s) => (namespaces.push(s.namespace), s) } });
      assert.equal(await runCli({ argv: ["token", "create", "ovh-par-1", ...args], env: e }), 0, e.stderrText());
      assert.deepEqual(namespaces, [want]);
    }
    const bad = testEnv({ host: { getMemberCluster: async (name) => memberCluster({ name }) } });
    assert.equal(await runCli({ argv: ["token", "create", "ovh-par-1", "--control-plane-namespace", "Platform"], env: bad }), 2);
    assert.match(bad.stderrText(), /--control-plane-namespace: "Platform" is not a namespace name/);
  });

  describe("audit export, keys and report through the host's query API (ledgers/NAME/export)", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), "ledger-export-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("exports with the kubeconfig's identity, the file written as the lines arrive, and verify accepts it", async () => {
      const gen = generateLedger();
      const asked: string[] = [];
      const e = testEnv({ query: { getLines: async function* (p) { asked.push(p); yield* gen.lines; } } });
      const file = path.join(dir, "trail.jsonl");
      assert.equal(await runCli({ argv: ["audit", "export", "--country", "FR", "--since", "2026-11-01", "-o", file, "--kubeconfig", "/k"], env: e }), 0, e.stderrText());
      assert.deepEqual(asked, ["/apis/query.sovereignty.eu/v1alpha1/ledgers/FR/export?since=2026-11-01T00%3A00%3A00.000Z"]);
      assert.deepEqual(e.kubeOpened, [{ kubeconfig: "/k", context: undefined }]);
      assert.equal(e.opened.length, 0, "no gRPC connection without a --grpc-* flag");
      assert.equal(readFileSync(file, "utf8"), gen.data.toString());
      assert.match(e.stderrText(), /^exported 31 records of 2 chains \(DE, FR\) to /);
      assert.equal(await runCli({ argv: ["audit", "verify", file], env: e }), 0, e.stdoutText());
      const keys = testEnv({ query: { getLines: async function* (p) { asked.push(p); yield* gen.lines.filter((l) => l.includes('"type":"key"')); } } });
      assert.equal(await runCli({ argv: ["audit", "keys"], env: keys }), 0, keys.stderrText());
      assert.equal(asked.at(-1), "/apis/query.sovereignty.eu/v1alpha1/ledgers/all/keys");
      assert.match(keys.stdoutText(), /rotation, signed by/);
      const report = testEnv({ query: { getLines: async function* (p) { asked.push(p); yield* gen.lines; } } });
      assert.equal(await runCli({ argv: ["report", "--all", "-o", "json"], env: report }), 0, report.stderrText());
      assert.equal(asked.at(-1), "/apis/query.sovereignty.eu/v1alpha1/ledgers/all/export");
    });

    it("a 403 exits 1 naming ledgers/export and the roles that grant it; an export cut mid-way leaves no file (positive control: the whole one is written)", async () => {
      const forbidden = new ApiStatusError({ status: 403, reason: "Forbidden", message: `ledgers.query.sovereignty.eu "all" is forbidden: User "bob" cannot get resource "ledgers/export" in API group "query.sovereignty.eu" at the cluster scope` });
      const refused = testEnv({ query: { getLines: async function* () { yield* []; throw forbidden; } } });
      const file = path.join(dir, "trail.jsonl");
      assert.equal(await runCli({ argv: ["audit", "export", "-o", file], env: refused }), 1);
      assert.match(refused.stderrText(), /refused \(Forbidden\): .*This needs RBAC "get" on "ledgers\/export" in API group "query\.sovereignty\.eu"; the roles sovereign-auditor or sovereign-admin grant it\n$/);
      const gen = generateLedger();
      const cut = testEnv({ query: { getLines: async function* () { yield* gen.lines.slice(0, 5); throw new KubeError("GET /apis/...: the answer was cut after 5 lines", { status: 0, retryable: true }); } } });
      assert.equal(await runCli({ argv: ["audit", "export", "-o", file], env: cut }), 1);
      assert.match(cut.stderrText(), /cannot reach the host API server .*cut after 5 lines/);
      assert.deepEqual(readdirSync(dir), [], "neither the file nor its partial copy");
      const whole = testEnv({ query: { getLines: async function* () { yield* gen.lines; } } });
      assert.equal(await runCli({ argv: ["audit", "export", "-o", file], env: whole }), 0, whole.stderrText());
      assert.ok(existsSync(file));
    });

    it("takes the break-glass gRPC route when a --grpc-* flag is given, and never the host then", async () => {
      const gen = generateLedger();
      const e = testEnv({ files: GRPC_FILES, environment: GRPC_ENVIRONMENT, controlPlane: { exportLedger: async function* () { for (const line of gen.lines) yield { line }; } } });
      assert.equal(await runCli({ argv: ["audit", "export"], env: e }), 0, e.stderrText());
      assert.equal(e.opened.length, 1);
      assert.deepEqual(e.kubeOpened, []);
      assert.equal(e.stdoutText(), gen.data.toString());
    });
  });
});
