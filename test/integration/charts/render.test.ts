import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { readFederationEnv } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { CHARTS, documents, helm, helmOk, REQUIRED_VALUES, SYSTEM_NAMESPACE } from "./helpers.ts";

const AGENT_REQUIRED = [...REQUIRED_VALUES.agent];
const CONTROL_PLANE_REQUIRED = [...REQUIRED_VALUES.controlPlane];

/** Kinds the local federation has no CRD for (prometheus-operator's): checked offline below. */
const MONITORING_KINDS = new Set(["ServiceMonitor", "PrometheusRule"]);

interface Case {
  chart: keyof typeof CHARTS;
  name: string;
  args: string[];
}

function cases(): Case[] {
  const out: Case[] = [
    { chart: "controlPlane", name: "defaults + required values", args: CONTROL_PLANE_REQUIRED },
    { chart: "agent", name: "defaults + required values", args: AGENT_REQUIRED },
  ];
  for (const chart of ["controlPlane", "agent"] as const) {
    const dir = path.join(CHARTS[chart], "ci");
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".yaml")).sort()) out.push({ chart, name: `ci/${f}`, args: ["-f", path.join(dir, f)] });
  }
  return out;
}

describe("Helm charts: lint, template, server-side dry run, schema", function () {
  this.timeout(300_000);
  let env: FederationEnv;

  before(() => {
    env = readFederationEnv();
    // Namespaced objects need their namespace to exist for a server-side dry run.
    for (const [kubeconfig, ns] of [[env.hostKubeconfig, SYSTEM_NAMESPACE], [env.hostKubeconfig, "monitoring"], [env.memberKubeconfigs.fr!, SYSTEM_NAMESPACE]] as const) {
      const r = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["create", "namespace", ns] });
      if (r.status !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
    }
  });

  for (const c of cases()) {
    it(`${c.chart === "controlPlane" ? "control-plane" : "member-agent"} with ${c.name}: lint --strict passes, and the server accepts every rendered object (kubectl apply --dry-run=server)`, () => {
      const lint = helm(env, ["lint", "--strict", CHARTS[c.chart], "--namespace", SYSTEM_NAMESPACE, ...c.args]);
      assert.equal(lint.status, 0, `helm lint --strict: ${lint.stdout}${lint.stderr}`);
      assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      const rendered = helmOk(env, ["template", "sovereign", CHARTS[c.chart], "--namespace", SYSTEM_NAMESPACE, ...c.args]);
      const docs = documents(rendered);
      assert.ok(docs.length >= 8, `only ${docs.length} objects rendered`);
      const forServer = docs.filter((d) => !MONITORING_KINDS.has(d.kind));
      const kubeconfig = c.chart === "controlPlane" ? env.hostKubeconfig : env.memberKubeconfigs.fr!;
      const out = kubectlOk({
        bin: env.tools.KUBECTL_BIN!, kubeconfig,
        args: ["apply", "--dry-run=server", "--server-side", "--field-manager=charts-dry-run", "--force-conflicts", "-f", "-"],
        input: forServer.map((d) => JSON.stringify(d)).join("\n"),
      });
      assert.equal(out.trim().split("\n").length, forServer.length, `every object was dry-run applied:\n${out}`);
      for (const d of docs) {
        assert.equal(d.metadata.labels?.["app.kubernetes.io/part-of"], "sovereign-federation", `${d.kind} ${d.metadata.name} has the chart's labels`);
        assert.ok(d.metadata.labels?.["app.kubernetes.io/instance"], `${d.kind} ${d.metadata.name} has app.kubernetes.io/instance`);
      }
    });
  }

  it("the ServiceMonitor and PrometheusRule (no monitoring.coreos.com CRDs here) select the metrics Service and carry every alert group of rules/", () => {
    const rendered = documents(helmOk(env, ["template", "sovereign", CHARTS.controlPlane, "--namespace", SYSTEM_NAMESPACE, "-f", path.join(CHARTS.controlPlane, "ci", "monitoring-values.yaml")]));
    const sm = rendered.find((d) => d.kind === "ServiceMonitor") as unknown as { apiVersion: string; metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } };
    assert.ok(sm, "a ServiceMonitor is rendered");
    assert.equal(sm.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(sm.metadata.labels.release, "monitoring", "the release label kube-prometheus-stack selects on is the configured one");
    const svc = rendered.find((d) => d.kind === "Service" && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => d.metadata.labels?.[k] === v)) as unknown as { spec: { ports: Array<{ name: string }> } };
    assert.ok(svc, "the ServiceMonitor's selector matches a Service of the chart");
    assert.deepEqual(sm.spec.endpoints.map((e) => e.port), svc.spec.ports.map((p) => p.name));
    const rules = rendered.filter((d) => d.kind === "PrometheusRule") as unknown as Array<{ apiVersion: string; spec: { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> } }>;
    const files = readdirSync(path.join(CHARTS.controlPlane, "rules")).filter((f) => f.endsWith(".yaml"));
    assert.equal(rules.length, files.length, "one PrometheusRule per file in rules/");
    const expected = files.flatMap((f) => (parse(readFileSync(path.join(CHARTS.controlPlane, "rules", f), "utf8")) as { groups: unknown[] }).groups);
    assert.deepEqual(rules.flatMap((r) => r.spec.groups), expected, "the rules reach the PrometheusRule unchanged (no Helm templating of {{ $labels }})");
    for (const g of rules.flatMap((r) => r.spec.groups)) {
      assert.ok(g.name && g.rules.length > 0, `group ${g.name} has rules`);
      for (const r of g.rules) assert.ok((r.alert || r.record) && typeof r.expr === "string" && r.expr.length > 0, `rule ${r.alert ?? r.record} has a name and an expression`);
    }
    const dashboards = rendered.filter((d) => d.kind === "ConfigMap" && d.metadata.labels?.grafana_dashboard === "1");
    assert.equal(dashboards.length, readdirSync(path.join(CHARTS.controlPlane, "dashboards")).filter((f) => f.endsWith(".json")).length);
    for (const d of dashboards) {
      assert.equal(d.metadata.namespace, "monitoring");
      for (const text of Object.values((d as unknown as { data: Record<string, string> }).data)) assert.ok(JSON.parse(text).panels, "the dashboard JSON survives the ConfigMap");
    }
  });

  const refused: Array<{ chart: keyof typeof CHARTS; what: string; args: string[]; field: RegExp }> = [
    { chart: "agent", what: "a cluster name with a dot", args: [...AGENT_REQUIRED, "--set", "cluster.name=ovh.par"], field: /\/cluster\/name/ },
    { chart: "agent", what: "no cluster name", args: ["--set", "join.bootstrapToken=t", "--set", "tls.existingSecret=s"], field: /\/cluster\/name/ },
    { chart: "agent", what: "a negative replica count", args: [...AGENT_REQUIRED, "--set", "replicaCount=-1"], field: /\/replicaCount/ },
    { chart: "agent", what: "an unknown key", args: [...AGENT_REQUIRED, "--set", "clusterName=fr"], field: /additional properties 'clusterName' not allowed/ },
    { chart: "agent", what: "a NATS URL without a scheme", args: [...AGENT_REQUIRED, "--set", "controlPlane.natsUrl=nats.example:4222"], field: /\/controlPlane\/natsUrl/ },
    { chart: "agent", what: "neither a token nor its Secret", args: ["--set", "cluster.name=fr", "--set", "tls.existingSecret=s"], field: /join: set join\.bootstrapToken .* or join\.existingSecret/ },
    { chart: "agent", what: "TLS as values without the key", args: ["--set", "cluster.name=fr", "--set", "join.bootstrapToken=t", "--set-string", "tls.ca=-----BEGIN CERTIFICATE-----", "--set-string", "tls.cert=-----BEGIN CERTIFICATE-----"], field: /tls\.key: required/ },
    { chart: "controlPlane", what: "a negative replica count", args: ["--set", "replicaCount=-1"], field: /\/replicaCount/ },
    { chart: "controlPlane", what: "an unknown nested key", args: ["--set", "crds.install=true"], field: /\/crds.*additional properties 'install' not allowed/s },
    { chart: "controlPlane", what: "a heartbeat interval that is not a duration", args: ["--set", "heartbeat.interval=5"], field: /\/heartbeat\/interval/ },
    { chart: "controlPlane", what: "a log level pino does not have", args: ["--set", "logLevel=verbose"], field: /\/logLevel/ },
  ];
  for (const r of refused) {
    it(`${r.chart === "controlPlane" ? "control-plane" : "member-agent"} refuses ${r.what}, naming the field (helm template and helm install)`, () => {
      for (const verb of [["template", "sovereign"], ["install", "sovereign", "--dry-run=client"]]) {
        const res = helm(env, [...verb, CHARTS[r.chart], "--namespace", SYSTEM_NAMESPACE, ...r.args], verb[0] === "install" ? env.hostKubeconfig : undefined);
        assert.notEqual(res.status, 0, `helm ${verb[0]} accepted ${r.what}`);
        assert.match(res.stderr, r.field);
      }
    });
  }

  it("positive control: the same commands with valid values succeed", () => {
    const res = helm(env, ["install", "sovereign", CHARTS.agent, "--namespace", SYSTEM_NAMESPACE, "--dry-run=client", ...AGENT_REQUIRED], env.hostKubeconfig);
    assert.equal(res.status, 0, res.stderr);
  });

  it("both charts render in any release namespace: the processes read it from the downward API, the guard's parameter lives there", () => {
    // The APIService needs a CA bundle the test has no use for here.
    for (const [chart, args] of [[CHARTS.controlPlane, ["--set", "query.apiService.insecureSkipTLSVerify=true"]], [CHARTS.agent, AGENT_REQUIRED]] as const) {
      const docs = documents(helmOk(env, ["template", "sovereign", chart, "--namespace", "platform", ...args]));
      const namespaced = docs.filter((d) => d.metadata.namespace !== undefined);
      assert.ok(namespaced.length > 0);
      // The aggregated API's reader of kube-system/extension-apiserver-authentication is bound where that ConfigMap is.
      for (const d of namespaced) assert.equal(d.metadata.namespace, d.kind === "RoleBinding" && d.metadata.name.endsWith("-auth-reader") ? "kube-system" : "platform", `${d.kind}/${d.metadata.name}`);
      const deployment = docs.find((d) => d.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }> }> } } } };
      const podNamespace = deployment.spec.template.spec.containers[0]!.env?.find((e) => e.name === "POD_NAMESPACE");
      assert.equal(podNamespace?.valueFrom?.fieldRef?.fieldPath, "metadata.namespace");
    }
    const guard = documents(helmOk(env, ["template", "sovereign", CHARTS.agent, "--namespace", "platform", ...AGENT_REQUIRED]));
    const bindings = guard.filter((d) => d.kind === "ValidatingAdmissionPolicyBinding" && (d as { spec?: { paramRef?: unknown } }).spec?.paramRef);
    assert.ok(bindings.length > 0, "the guard's binding has a paramRef");
    for (const b of bindings) assert.equal((b as unknown as { spec: { paramRef: { namespace: string } } }).spec.paramRef.namespace, "platform");
    const policy = JSON.stringify(guard.find((d) => d.kind === "ValidatingAdmissionPolicy" && d.metadata.name === "sovereign-residency-guard"));
    assert.match(policy, /ConfigMap platform\/sovereign-residency-facts/);
    assert.doesNotMatch(policy, /sovereign-system/);
  });
});
