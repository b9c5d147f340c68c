/**
 * The state of a NATS connection as the agent and the control plane act on it: whether it
 * is up, since when, and a signal after every reconnect (the agent resyncs its intents; the
 * control plane reopens its report consumers and gives members a fresh heartbeat window,
 * since it could not hear anyone while it was cut off).
 */
import type { Logger } from "pino";
import type { FederationClient } from "./jetstream.ts";

export interface ConnectionState {
  connected(): boolean;
  onReconnect(handler: () => void): void;
}

export function connectionStateOf(client: FederationClient, log?: Logger): ConnectionState {
  let up = !client.nc.isClosed();
  const handlers: (() => void)[] = [];
  void (async () => {
    for await (const s of client.nc.status()) {
      if (s.type === "disconnect") {
        up = false;
        log?.warn({ server: s.server }, "NATS disconnected");
      } else if (s.type === "reconnect") {
        up = true;
        log?.info({ server: s.server }, "NATS reconnected");
        for (const h of handlers) h();
      }
    }
  })();
  void client.nc.closed().then(() => { up = false; });
  return {
    connected: () => up && !client.nc.isClosed(),
    onReconnect: (h) => { handlers.push(h); },
  };
}
