// @ts-check
/**
 * The architecture, checked by `npm run lint` (dependency-cruiser). Layers, top to bottom:
 *
 *   cmd → controllers, agent, query → runtime, federation, kube, metrics → ledger → scheduler → api
 *
 * A layer may import the layers below it (and its own), never one above. gen/ (ts-proto
 * output) is for the layers that speak the protocol: federation, controllers, agent, cmd.
 * Only kube/ talks to the API server, only metrics/ knows prom-client, the scheduler core
 * and its plugins stay pure, and a folder is entered through its index.ts, so each folder's
 * public surface is one file a reviewer can read.

 */

const SRC = "^operator/src/";
const GEN = `${SRC}gen/`;

/** Folders of the middle layer: the machinery controllers and the agent are built on. */
const MIDDLE = `${SRC}(runtime|federation|kube|metrics)/`;
const UPPER = `${SRC}(controllers|agent|query)/`;
const CMD = `${SRC}cmd/`;

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle makes load order matter and hides which module owns an idea; break it by moving the shared piece down.",
      from: {},
      to: { circular: true },
    },

    // ---- layers ----
    {
      name: "api-is-the-bottom",
      severity: "error",
      comment: "api/ holds the CR types every layer agrees on; it imports no other folder of the operator.",
      from: { path: `${SRC}api/` },
      to: { path: SRC, pathNot: `${SRC}api/` },
    },
    {
      name: "scheduler-only-above-api",
      severity: "error",
      comment: "The scheduler decides from plain data: it may use api/, never the I/O layers or anything above them.",
      from: { path: `${SRC}scheduler/` },
      to: { path: SRC, pathNot: [`${SRC}scheduler/`, `${SRC}api/`] },
    },
    {
      name: "ledger-only-above-scheduler",
      severity: "error",
      comment: "The audit ledger's format and verification are pure (node:crypto aside): they may use the scheduler's residency filters and api/, never the I/O layers, so an auditor's offline verify runs the same code the control plane signs with.",
      from: { path: `${SRC}ledger/` },
      to: { path: SRC, pathNot: [`${SRC}ledger/`, `${SRC}scheduler/`, `${SRC}api/`] },
    },
    {
      name: "ledger-imports-no-packages",
      severity: "error",
      comment: "Verification must run offline with nothing but Node: node: built-ins only, no package.",
      from: { path: `${SRC}ledger/` },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"] },
    },
    {
      name: "middle-layer-not-upwards",
      severity: "error",
      comment: "runtime, federation, kube and metrics are what controllers and the agent are built on; they never import them or cmd/.",
      from: { path: MIDDLE },
      to: { path: [UPPER, CMD] },
    },
    {
      name: "controllers-agent-not-cmd",
      severity: "error",
      comment: "cmd/ holds entry points (flags, process wiring); controllers, the agent and the query API are libraries that cmd/ calls.",
      from: { path: UPPER },
      to: { path: CMD },
    },
    {
      name: "gen-only-for-protocol-speakers",
      severity: "error",
      comment: "Generated protobuf code is the wire format: only federation, controllers, agent, query and cmd may see it; lower layers keep their own types.",
      from: { path: SRC, pathNot: [GEN, `${SRC}(federation|controllers|agent|query|cmd)/`] },
      to: { path: GEN },
    },
    {
      name: "scheduler-core-is-pure",
      severity: "error",
      comment: "scheduler/core runs in the control plane, in simulate and under property tests: it imports nothing outside itself, not even a package.",
      from: { path: `${SRC}scheduler/core/` },
      to: { pathNot: `${SRC}scheduler/core/` },
    },
    {
      name: "scheduler-plugins-are-pure",
      severity: "error",
      comment: "Plugins are filters and scores over the core's types: they import only the core and each other.",
      from: { path: `${SRC}scheduler/plugins/` },
      to: { pathNot: `${SRC}scheduler/(core|plugins)/` },
    },

    // ---- packages that belong to one folder ----
    {
      name: "only-kube-imports-client-node",
      severity: "error",
      comment: "Only operator/src/kube talks to the API server; everything else gets a narrow interface from it.",
      from: { path: SRC, pathNot: `${SRC}kube/` },
      to: { path: "node_modules/@kubernetes/client-node/" },
    },
    {
      name: "only-metrics-imports-prom-client",
      severity: "error",
      comment: "Only operator/src/metrics knows prom-client; the rest records through metrics/types.ts's interfaces.",
      from: { path: SRC, pathNot: `${SRC}metrics/` },
      to: { path: "node_modules/prom-client/" },
    },

    // ---- a folder is entered through its index.ts ----
    {
      name: "cross-folder-through-index",
      severity: "error",
      comment: "Import another top-level folder only through its index.ts, or a sub-folder's (federation/nats, controllers/workload); gen/ is generated and has none.",
      from: { path: `${SRC}([^/]+)/` },
      to: { path: SRC, pathNot: [`${SRC}$1/`, `${SRC}[^/]+/index\\.ts$`, `${SRC}[^/]+/[^/]+/index\\.ts$`, GEN] },
    },
    {
      name: "sub-folder-through-index-from-parent",
      severity: "error",
      comment: "A folder's top files reach a sub-folder (federation/nats, scheduler/core, ...) through that sub-folder's index.ts.",
      from: { path: `${SRC}([^/]+)/[^/]+$` },
      to: { path: `${SRC}$1/[^/]+/[^/]+$`, pathNot: "/index\\.ts$" },
    },
    {
      name: "sub-folder-through-index-from-sibling",
      severity: "error",
      comment: "One sub-folder reaches a sibling (federation/grpc → federation/nats) only through the sibling's index.ts.",
      from: { path: `${SRC}([^/]+)/([^/]+)/` },
      to: { path: `${SRC}$1/[^/]+/[^/]+$`, pathNot: [`${SRC}$1/$2/`, "/index\\.ts$"] },
    },
  ],
  options: {
    // Packages and node: built-ins stay in the graph (not followed), so the purity and
    // package-ownership rules can see them.
    doNotFollow: { path: "node_modules" },
    // Type-only imports are dependencies of the design too: a type from a higher layer
    // couples the lower one to it just as much.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
