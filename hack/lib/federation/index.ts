// The local federation as a library (tests, benchmarks, the demo): what callers may use.
export { federationHealthy, natsClusterFromEnv, repoRoot, resolveUpOptions, startLocalFederation } from "./local.ts";
export type { LocalFederation, ShapeOptions, StartOptions } from "./local.ts";
export { componentAlias, down, replaceFlags, startComponent, status, stopComponent, up, FederationMismatchError, UnknownComponentError } from "./federation.ts";
export type { ComponentOptions, ComponentStatus, UpOptions } from "./federation.ts";
export { envKeys, FederationEnvError, parseEnv, readLocalFederationEnv } from "./env.ts";
export type { LocalFederationEnv } from "./env.ts";
export { agentComponentName, CONTROL_PLANE_COMPONENT, defaultBasePort, NATS_SINGLE_COMPONENT, natsComponentName, layoutPorts, makeLayout, memberEnvName, memberSpec, PORTS_PER_FEDERATION } from "./layout.ts";
export type { ClusterLayout, Layout } from "./layout.ts";
export { DEFAULT_MEMBERS, defaultAgents, EXAMPLE_REGIONS } from "./shape.ts";
export { freeBasePort, portInUse } from "./http.ts";
export { isRunning } from "./process.ts";
export type { RecordedProcess, StopSignal } from "./process.ts";
export { AGENT_ENTRY, CONTROL_PLANE_ENTRY } from "./operator.ts";
export { SYSTEM_NAMESPACE } from "./setup.ts";
export { metaClusterOf } from "./nats.ts";
