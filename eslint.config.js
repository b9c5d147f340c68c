// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const CLIENT_NODE = { name: "@kubernetes/client-node", message: "Only operator/src/kube talks to the API server." };
const PROM_CLIENT = { name: "prom-client", message: "Only operator/src/metrics imports prom-client; record through metrics/types.ts's interfaces." };

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "operator/src/gen/", ".federation/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", Buffer: "readonly", AbortController: "readonly", AbortSignal: "readonly", fetch: "readonly", performance: "readonly", structuredClone: "readonly", TextEncoder: "readonly", TextDecoder: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  // Only kube/ talks to the API server and only metrics/ knows prom-client; the
  // architecture as a whole (layers, index-only entry, no cycles) is checked by
  // dependency-cruiser (.dependency-cruiser.js), these give the same answer in the editor.
  // One block per folder, because a later no-restricted-imports replaces an earlier one.
  {
    files: ["operator/src/**/*.ts"],
    ignores: ["operator/src/kube/**", "operator/src/metrics/**"],
    rules: { "no-restricted-imports": ["error", { paths: [CLIENT_NODE, PROM_CLIENT] }] },
  },
  { files: ["operator/src/kube/**/*.ts"], rules: { "no-restricted-imports": ["error", { paths: [PROM_CLIENT] }] } },
  { files: ["operator/src/metrics/**/*.ts"], rules: { "no-restricted-imports": ["error", { paths: [CLIENT_NODE] }] } },
  {
    // The scheduler core is pure: the same code runs in the control plane, in
    // `kubectl sovereign simulate` and under property tests, so it may not reach I/O.
    files: ["operator/src/scheduler/core/**/*.ts", "operator/src/scheduler/plugins/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["@kubernetes/client-node", "@kubernetes/*"], message: "The scheduler core is pure: no Kubernetes client." },
          { group: ["nats", "@nats-io/*"], message: "The scheduler core is pure: no NATS." },
          { group: ["@grpc/*"], message: "The scheduler core is pure: no gRPC." },
          { group: ["prom-client"], message: "The scheduler core is pure: no metrics." },
          { group: ["node:*", "fs", "net", "http", "https", "child_process"], message: "The scheduler core is pure: no I/O." },
          { group: ["**/kube/**", "**/federation/**", "**/metrics/**", "**/runtime/**", "**/controllers/**", "**/api/**"], message: "The scheduler core has its own plain types; adapters live outside it." },
        ],
      }],
    },
  },
);
