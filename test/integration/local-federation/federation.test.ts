import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";
import { connect, nkeyAuthenticator, type NodeConnectionOptions } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { parse } from "yaml";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
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

  it("runs a host and the fr and de members, each API server reporting Kubernetes v1.34", async () => {
    assert.deepEqual(Object.keys(env.memberKubeconfigs).sort(), ["de", "fr"]);
    for (const kubeconfig of [env.hostKubeconfig, ...Object.values(env.memberKubeconfigs)]) {
      const version = (await getJson(kubeconfig, "/version")) as { gitVersion: string; major: string; minor: string };
      assert.match(version.gitVersion, /^v1\.34\.\d+$/, `${kubeconfig}: /version says ${version.gitVersion}`);
      assert.equal(version.minor, "34");
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

  for (const [member, region] of [["fr", "eu-west-par"], ["de", "eu-central-fra"]] as const) {
    it(`binds a pod on ${member} to a kwok node in ${region} with kube-scheduler, and the pod goes Running`, async () => {
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
          spec: { containers: [{ name: "app", image: "registry.invalid/app:1", resources: { requests: { cpu: "100m", memory: "64Mi" } } }] },
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
