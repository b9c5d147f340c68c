import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { connect, nkeyAuthenticator, type NodeConnectionOptions } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { parse } from "yaml";
import { federationStateDir, readFederationEnv, repoRoot, type FederationEnv } from "../env.ts";
import { AGENT_ENTRY, agentComponentName, startComponent, stopComponent, CONTROL_PLANE_COMPONENT, CONTROL_PLANE_ENTRY, memberEnvName, memberSpec, SYSTEM_NAMESPACE } from "../../../hack/lib/federation/index.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { inboxPrefix } from "../../../operator/src/federation/nats/protocol.ts";

interface Kubeconfig {
  clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  users: { user: { token: string } }[];
}

function getJson(kubeconfigFile: string, apiPath: string): Promise<unknown> {
  const kc = parse(readFileSync(kubeconfigFile, "utf8")) as Kubeconfig;
  const url = new URL(apiPath, kc.clusters[0]!.cluster.server);
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: Buffer.from(kc.clusters[0]!.cluster["certificate-authority-data"], "base64"), headers: { authorization: `Bearer ${kc.users[0]!.user.token}` } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
      })
      .on("error", reject);
  });
}

describe("local federation", () => {
  let env: FederationEnv;
  before(() => {
    env = readFederationEnv();
  });

  it("runs a host and every member it names, fr and de among them, each API server reporting Kubernetes v1.34", async () => {
    assert.ok(env.members.includes("fr") && env.members.includes("de"), `members: ${env.members.join(",")}`);
    assert.deepEqual(Object.keys(env.memberKubeconfigs), env.members);
    for (const m of env.members) assert.equal(env.memberKubeconfigs[m], path.join(federationStateDir(), `${m}.kubeconfig`));
    for (const kubeconfig of [env.hostKubeconfig, ...Object.values(env.memberKubeconfigs)]) {
      const version = (await getJson(kubeconfig, "/version")) as { gitVersion: string; major: string; minor: string };
      assert.match(version.gitVersion, /^v1\.34\.\d+$/, `${kubeconfig}: /version says ${version.gitVersion}`);
      assert.equal(version.minor, "34");
    }
  });

  it("names in its env the members, the agents, the control plane's metrics and gRPC address and each agent's metrics URL", () => {
    assert.equal(env.vars.FEDERATION_MEMBERS, env.members.join(","));
    assert.equal(env.vars.FEDERATION_AGENTS, env.agents.join(","));
    for (const a of env.agents) assert.ok(env.members.includes(a), `agent ${a} is a member`);
    assert.match(env.vars.CONTROL_PLANE_METRICS_URL ?? "", /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.match(env.vars.CONTROL_PLANE_GRPC_ADDRESS ?? "", /^127\.0\.0\.1:\d+$/);
    const ports = new Set([new URL(env.controlPlaneMetricsUrl).port, env.controlPlaneGrpcAddress.split(":")[1]]);
    for (const a of env.agents) {
      const url = env.vars[`AGENT_METRICS_URL_${memberEnvName(a)}`];
      assert.match(url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, a);
      ports.add(new URL(url!).port);
    }
    assert.equal(ports.size, 2 + env.agents.length, "every metrics and gRPC port is distinct");
  });

  it("lists the control plane and one agent per agent member in status: healthy, or absent until its entry file exists", () => {
    const r = spawnSync(path.join(repoRoot, "hack", "federation"), ["status"], { encoding: "utf8", env: { ...process.env, FEDERATION_STATE_DIR: federationStateDir() } });
    const line = (name: string) => r.stdout.split("\n").find((l) => l.startsWith(`${name} `));
    const expect = [[CONTROL_PLANE_COMPONENT, CONTROL_PLANE_ENTRY], ...env.agents.map((a) => [agentComponentName(a), AGENT_ENTRY])] as const;
    for (const [name, entry] of expect) {
      const l = line(name);
      assert.ok(l, `status lists ${name}:\n${r.stdout}`);
      if (existsSync(path.join(repoRoot, entry))) assert.match(l, new RegExp(`^${name}\\s+healthy\\s+pid \\d+`), l);
      else assert.match(l, new RegExp(`absent\\s+${entry} does not exist yet`), l);
    }
    assert.equal(line("agent-fr"), undefined, "the bare member fr runs no agent");
    assert.equal(r.status, 0, r.stdout);
  });

  it("answers /readyz and /metrics of the control plane and every agent that runs", async function () {
    const urls = [...(existsSync(path.join(repoRoot, CONTROL_PLANE_ENTRY)) ? [env.controlPlaneMetricsUrl] : []), ...(existsSync(path.join(repoRoot, AGENT_ENTRY)) ? Object.values(env.agentMetricsUrls) : [])];
    if (urls.length === 0) this.skip();
    for (const url of urls) {
      assert.equal((await fetch(url.replace(/\/metrics$/, "/readyz"))).status, 200, url);
      const metrics = await fetch(url);
      assert.equal(metrics.status, 200, url);
      assert.match(await metrics.text(), /^# (HELP|TYPE) /m, url);
    }
  });

  it("stopComponent takes one agent down (its /readyz stops answering) and startComponent brings it back with a new pid", async function () {
    if (!existsSync(path.join(repoRoot, AGENT_ENTRY)) || env.agents.length === 0) this.skip();
    this.timeout(180_000);
    const member = env.agents.includes("ionos-fra-1") ? "ionos-fra-1" : env.agents[0]!;
    // An agent is ready once its MemberCluster is declared (the control plane then creates its stream).
    kubectlOk({ bin: env.tools.KUBECTL_BIN ?? env.vars.KUBECTL!, kubeconfig: env.hostKubeconfig, args: ["apply", "--server-side", "--field-manager=local-federation-test", "-f", path.join(repoRoot, "crds/examples/10-member-clusters.yaml")] });
    const readyz = env.agentMetricsUrls[member]!.replace(/\/metrics$/, "/readyz");
    const other = env.agentMetricsUrls[env.agents.find((a) => a !== member) ?? member]!.replace(/\/metrics$/, "/readyz");
    const opts = { root: repoRoot, stateDir: federationStateDir(), component: agentComponentName(member) };
    const stopped = await stopComponent(opts);
    try {
      assert.ok(stopped.pid > 0);
      await assert.rejects(fetch(readyz), `${member}'s agent still answers`);
      if (other !== readyz) assert.equal((await fetch(other)).status, 200, "positive control: the other agents still answer");
    } finally {
      const started = await startComponent({ ...opts, timeoutMs: 120_000 });
      assert.notEqual(started.pid, stopped.pid);
    }
    assert.equal((await fetch(readyz)).status, 200);
  });

  it("installs the sovereignty.eu CRDs (Established) and sovereign-system on the host and on every agent member", async () => {
    for (const crd of ["memberclusters", "residencypolicies", "sovereignworkloads"]) {
      const c = (await getJson(env.hostKubeconfig, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}.sovereignty.eu`)) as { status: { conditions: { type: string; status: string }[] } };
      assert.ok(c.status.conditions.some((x) => x.type === "Established" && x.status === "True"), crd);
    }
    for (const kubeconfig of [env.hostKubeconfig, ...env.agents.map((a) => env.memberKubeconfigs[a]!)]) {
      const ns = (await getJson(kubeconfig, `/api/v1/namespaces/${SYSTEM_NAMESPACE}`)) as { status: { phase: string } };
      assert.equal(ns.status.phase, "Active", kubeconfig);
    }
  });

  it("keeps each cluster's objects apart although they share one etcd", () => {
    const name = `only-on-fr-${randomBytes(3).toString("hex")}`;
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs.fr!, args: ["create", "namespace", name] });
    const onDe = kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs.de!, args: ["get", "namespace", name] });
    assert.notEqual(onDe.status, 0);
    assert.match(onDe.stderr, /NotFound|not found/);
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs.fr!, args: ["delete", "namespace", name, "--wait=false"] });
  });

  for (const member of ["fr", "de", "ovh-par-1"]) {
    const region = memberSpec(member).region;
    it(`binds a pod on ${member} to a kwok node in ${region} with kube-scheduler, and the pod goes Running`, async function () {
      // ovh-par-1 is in the default shape; a federation recorded with other members has none.
      if (!env.members.includes(member)) this.skip();
      const kubeconfig = env.memberKubeconfigs[member]!;
      const name = `probe-${randomBytes(3).toString("hex")}`;
      kubectlOk({
        bin: env.tools.KUBECTL_BIN!,
        kubeconfig,
        args: ["apply", "-f", "-"],
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, namespace: "default" },
          spec: { containers: [{ name: "app", image: "registry.invalid/app:1", resources: { requests: { cpu: "100m", memory: "64Mi" } }, securityContext: restrictedSecurityContext() }] },
        }),
      });
      const pod = await waitFor(
        async () => {
          const p = (await getJson(kubeconfig, `/api/v1/namespaces/default/pods/${name}`)) as {
            spec: { nodeName?: string };
            status: { phase?: string; conditions?: { type: string; status: string }[] };
          };
          return p.status.phase === "Running" ? p : undefined;
        },
        { what: `pod ${member}/default/${name} Running`, timeoutMs: 60_000 },
      );
      assert.match(pod.spec.nodeName ?? "", new RegExp(`^${member}-node-\\d+$`));
      if (member === "ovh-par-1") assert.equal(region, "eu-west-par", "the example MemberCluster's region");
      assert.ok(pod.status.conditions?.some((c) => c.type === "PodScheduled" && c.status === "True"));
      const node = (await getJson(kubeconfig, `/api/v1/nodes/${pod.spec.nodeName}`)) as { metadata: { labels: Record<string, string> } };
      assert.equal(node.metadata.labels["topology.kubernetes.io/region"], region);
      assert.match(node.metadata.labels["topology.kubernetes.io/zone"] ?? "", new RegExp(`^${region}-[abc]$`));
      const events = kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["get", "events", "-n", "default", "--field-selector", `involvedObject.name=${name},reason=Scheduled`, "-o", "json"] });
      assert.match(events, /default-scheduler/);
      kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig, args: ["delete", "pod", name, "-n", "default", "--wait=false"] });
    });
  }

  it("finishes terminating a namespace deleted on the host (kube-controller-manager runs there)", async () => {
    const name = `short-lived-${randomBytes(3).toString("hex")}`;
    const bin = env.tools.KUBECTL_BIN!;
    kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args: ["create", "namespace", name] });
    kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args: ["create", "configmap", "data", "-n", name, "--from-literal=k=v"] });
    kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args: ["delete", "namespace", name, "--wait=false"] });
    await waitFor(
      () => {
        const r = kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["get", "namespace", name] });
        return r.status !== 0 && /NotFound|not found/.test(r.stderr);
      },
      { what: `namespace ${name} gone from the host`, timeoutMs: 60_000 },
    );
  });

  it("runs JetStream: a stream is created, published to and consumed from", async () => {
    const nc = await connect({ servers: env.natsUrl, ...natsAuth(env) });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = `PROBE_${randomBytes(3).toString("hex").toUpperCase()}`;
      // Inside the control plane's permissions: it may publish intents for any cluster name.
      const subjectPrefix = `sov.v1.probe-${stream.slice(6).toLowerCase()}.intents`;
      await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.*`] });
      const js = jetstream(nc);
      for (let i = 0; i < 3; i++) {
        const ack = await js.publish(`${subjectPrefix}.x`, `m${i}`);
        assert.equal(ack.stream, stream);
        assert.equal(ack.seq, i + 1);
      }
      await jsm.consumers.add(stream, { durable_name: "probe", ack_policy: AckPolicy.Explicit });
      const consumer = await js.consumers.get(stream, "probe");
      const got: string[] = [];
      const messages = await consumer.fetch({ max_messages: 3, expires: 5000 });
      for await (const m of messages) {
        got.push(m.string());
        m.ack();
      }
      assert.deepEqual(got, ["m0", "m1", "m2"]);
      await jsm.streams.delete(stream);
    } finally {
      await nc.drain();
    }
  });
});

/**
 * The control plane's NATS identity: TLS with the federation's CA, its nkey, and the
 * inbox prefix its permissions allow (replies to other inboxes are not its to read).
 */
function natsAuth(env: FederationEnv): Pick<NodeConnectionOptions, "authenticator" | "tls" | "inboxPrefix"> {
  const seed = readFileSync(env.vars.NATS_CREDS_CONTROL_PLANE!, "utf8").trim();
  return {
    authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
    tls: { ca: readFileSync(env.vars.NATS_CA!, "utf8") },
    inboxPrefix: inboxPrefix("control-plane"),
  };
}
