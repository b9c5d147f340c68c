/**
 * What the chaos scenarios read of the local federation's nats-servers, from each
 * server's own monitoring endpoint (loopback HTTP, no credentials): the streams it holds,
 * with their state as that server stores it, and which connections it serves. On a
 * JetStream cluster each server answers for its own replica of every stream, so a server
 * that lags shows it here, whatever the stream's leader says.
 */
import { NATS_SINGLE_COMPONENT, natsComponentName } from "../../../hack/lib/federation/index.ts";
import type { FederationEnv } from "../../integration/env.ts";

export interface StreamState {
  messages: number;
  first_seq: number;
  last_seq: number;
}

export interface ServerStream {
  name: string;
  state: StreamState;
  config?: { num_replicas?: number };
  cluster?: { leader?: string; replicas?: { name: string; current: boolean }[] };
}

/** Every stream one server holds, with its config and cluster view; throws when the server does not answer. */
export async function serverStreams(monitorUrl: string): Promise<ServerStream[]> {
  const res = await fetch(`${monitorUrl}/jsz?accounts=true&streams=true&config=true`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${monitorUrl}/jsz answered ${res.status}`);
  const body = (await res.json()) as { account_details?: { stream_detail?: ServerStream[] }[] };
  return (body.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
}

/** One stream's state as one server stores it. */
export async function streamState(monitorUrl: string, stream: string): Promise<StreamState> {
  const s = (await serverStreams(monitorUrl)).find((x) => x.name === stream);
  if (!s) throw new Error(`${monitorUrl} reports no stream ${stream}`);
  return s.state;
}

/** The server's name in the cluster (what stream leaders are named by). */
export async function serverName(monitorUrl: string): Promise<string> {
  const res = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { server_name: string }).server_name;
}

/** Names of the client connections one server serves (nats.js's `name` option: sovereign-control-plane, sovereign-agent-<member>). */
export async function connectionNames(monitorUrl: string): Promise<string[]> {
  const res = await fetch(`${monitorUrl}/connz?limit=1024`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${monitorUrl}/connz answered ${res.status}`);
  return ((await res.json()) as { connections?: { name?: string }[] }).connections?.map((c) => c.name ?? "") ?? [];
}

/** Whether anything answers on the server's monitoring port (a SIGKILLed server does not). */
export async function answers(monitorUrl: string): Promise<boolean> {
  try {
    await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** The servers of the running federation, by component name (nats-1..3, or nats-server alone). */
export function natsServersOf(env: FederationEnv): { component: string; monitor: string }[] {
  if (env.natsMonitorUrls.length === 1) return [{ component: NATS_SINGLE_COMPONENT, monitor: env.natsMonitorUrls[0]! }];
  return env.natsMonitorUrls.map((monitor, i) => ({ component: natsComponentName(i + 1), monitor }));
}
