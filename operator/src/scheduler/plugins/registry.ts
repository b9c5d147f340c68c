import type { FilterPlugin, Profile, ScorePlugin } from "../core/index.ts";
import { capacity } from "./capacity.ts";
import { certification } from "./certification.ts";
import { country } from "./country.ts";
import { exposure } from "./exposure.ts";
import { freeCapacity } from "./free-capacity.ts";
import { jurisdiction } from "./jurisdiction.ts";
import { readiness } from "./readiness.ts";
import { clusterSelector } from "./selector.ts";
import { spreadBalance } from "./spread-balance.ts";
import { taints } from "./taints.ts";

/** Every filter plugin, by name, in the order reasons are listed (API.md's order). */
export const filterPlugins: Readonly<Record<string, FilterPlugin>> = Object.freeze(
  Object.fromEntries([readiness, taints, country, jurisdiction, certification, exposure, clusterSelector, capacity].map((p) => [p.name, p])),
);

export const scorePlugins: Readonly<Record<string, ScorePlugin>> = Object.freeze(
  Object.fromEntries([freeCapacity, spreadBalance].map((p) => [p.name, p])),
);

/** What the control plane and `simulate` both run: one profile, so both decide alike. */
export const defaultProfile: Profile = Object.freeze({
  filters: Object.freeze(Object.values(filterPlugins)),
  scores: Object.freeze(Object.values(scorePlugins)),
});

/** A plugin name nobody registered: a configuration mistake, not worth retrying. */
export class UnknownPluginError extends Error {
  override readonly name = "UnknownPluginError";
  readonly retryable = false;
  constructor(kind: "filter" | "score", plugin: string) {
    super(`unknown ${kind} plugin "${plugin}"; known: ${Object.keys(kind === "filter" ? filterPlugins : scorePlugins).join(", ")}`);
  }
}

/**
 * A profile from plugin names, for tests and experiments. Residency filters can be
 * left out here only on purpose; the default profile has them all.
 */
export function profileOf({ filters, scores }: { filters: readonly string[]; scores: readonly string[] }): Profile {
  return {
    filters: filters.map((name) => filterPlugins[name] ?? throwUnknown("filter", name)),
    scores: scores.map((name) => scorePlugins[name] ?? throwUnknown("score", name)),
  };
}

function throwUnknown(kind: "filter" | "score", name: string): never {
  throw new UnknownPluginError(kind, name);
}
