/** The member agent: intents to Deployments, status, heartbeats, the residency guard's parameter. */
export * from "./agent.ts";
export * from "./credentials.ts";
export * from "./debounce.ts";
export * from "./deployment.ts";
export * from "./guard-param.ts";
export * from "./heartbeat.ts";
export * from "./plan.ts";
export * from "./status.ts";
