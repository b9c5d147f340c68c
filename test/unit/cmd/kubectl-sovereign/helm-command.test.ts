import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { helmInstallCommand, installNote, shellQuote } from "../../../../operator/src/cmd/kubectl-sovereign/helm-command.ts";

/** The words a POSIX shell makes of `command` (through the real sh). */
function shellWords(command: string): string[] {
  const r = spawnSync("sh", ["-c", `for w in ${command.replace(/^helm /, "")}; do printf '%s\\0' "$w"; done`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\0").slice(0, -1);
}

describe("kubectl sovereign token create's helm command", () => {
  it("is exactly the member-agent chart's install with the five values", () => {
    assert.equal(
      helmInstallCommand({ cluster: "ovh-par-1", grpcAddress: "cp.example:443", natsUrl: "tls://nats.example:4222", token: "abcdef.0123456789abcdef" }),
      "helm install sovereign-agent charts/member-agent --namespace sovereign-system --create-namespace --set cluster.name=ovh-par-1 --set controlPlane.grpcAddress=cp.example:443 --set controlPlane.natsUrl=tls://nats.example:4222 --set join.bootstrapToken=abcdef.0123456789abcdef --set tls.existingSecret=sovereign-agent-tls",
    );
  });

  it("quotes a value the shell would otherwise split or expand, so the shell hands helm the value unchanged", () => {
    const odd = "tls://a b:1,$HOME'x";
    const words = shellWords(helmInstallCommand({ cluster: "fr", grpcAddress: "cp:1", natsUrl: odd, token: "t" }));
    assert.ok(words.includes(`controlPlane.natsUrl=${odd}`), words.join(" | "));
    assert.equal(shellQuote("plain.value:1"), "plain.value:1");
  });

  it("leaves placeholders for unknown addresses and says how to fill each", () => {
    const note = installNote({ cluster: "fr", grpcAddress: undefined, natsUrl: undefined, token: "t" });
    assert.match(note, /--set controlPlane\.grpcAddress=CONTROL_PLANE_GRPC_ADDRESS --set controlPlane\.natsUrl=NATS_URL /);
    assert.match(note, /Before running it, replace CONTROL_PLANE_GRPC_ADDRESS with the control plane's gRPC HOST:PORT \(or rerun with --grpc-address \/ SOVEREIGN_GRPC_ADDRESS\)\./);
    assert.match(note, /Before running it, replace NATS_URL with the federation's NATS URL.*--nats-url \/ SOVEREIGN_NATS_URL/);
  });

  it("asks for no replacement when both addresses are known (positive control of the placeholders)", () => {
    const note = installNote({ cluster: "fr", grpcAddress: "cp:1", natsUrl: "tls://n:2", token: "t" });
    assert.doesNotMatch(note, /CONTROL_PLANE_GRPC_ADDRESS|NATS_URL|Before running it/);
    assert.match(note, /Secret sovereign-agent-tls in sovereign-system/);
  });
});
