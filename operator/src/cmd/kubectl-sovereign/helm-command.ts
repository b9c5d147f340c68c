// The member agent's install command, printed by `token create` so the admin hands the
// member's operator one line to run. Value names are the member-agent chart's.

export const AGENT_TLS_SECRET = "sovereign-agent-tls";

/** Left in the command when the address is not known; the note says to replace it. */
export const PLACEHOLDERS = { grpcAddress: "CONTROL_PLANE_GRPC_ADDRESS", natsUrl: "NATS_URL" } as const;

/** Quotes a word for POSIX shells only when it needs it, so the usual command stays readable. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

export function helmInstallCommand(p: { cluster: string; grpcAddress: string; natsUrl: string; token: string }): string {
  const values = [
    `cluster.name=${p.cluster}`,
    `controlPlane.grpcAddress=${p.grpcAddress}`,
    `controlPlane.natsUrl=${p.natsUrl}`,
    `join.bootstrapToken=${p.token}`,
    `tls.existingSecret=${AGENT_TLS_SECRET}`,
  ];
  return ["helm install sovereign-agent charts/member-agent --namespace sovereign-system --create-namespace", ...values.map((v) => `--set ${shellQuote(v)}`)].join(" ");
}

/**
 * What `token create` says on stderr after the token: the command, and for each address
 * it could not know, which placeholder to replace and where the value comes from.
 */
export function installNote(p: { cluster: string; grpcAddress: string | undefined; natsUrl: string | undefined; token: string }): string {
  const command = helmInstallCommand({ cluster: p.cluster, token: p.token, grpcAddress: p.grpcAddress ?? PLACEHOLDERS.grpcAddress, natsUrl: p.natsUrl ?? PLACEHOLDERS.natsUrl });
  const todo = [
    ...(p.grpcAddress === undefined ? [`replace ${PLACEHOLDERS.grpcAddress} with the control plane's gRPC HOST:PORT (or rerun with --grpc-address / SOVEREIGN_GRPC_ADDRESS)`] : []),
    ...(p.natsUrl === undefined ? [`replace ${PLACEHOLDERS.natsUrl} with the federation's NATS URL, e.g. tls://nats.example:4222 (or rerun with --nats-url / SOVEREIGN_NATS_URL)`] : []),
  ];
  return [
    "",
    `Install the member agent on ${p.cluster} (with the member cluster's kubeconfig), after creating the Secret ${AGENT_TLS_SECRET} in sovereign-system there with the agent's gRPC client certificate:`,
    "",
    `  ${command}`,
    ...(todo.length ? ["", ...todo.map((t) => `Before running it, ${t}.`)] : []),
    "",
  ].join("\n");
}
