// The default plugins and their registry.
export { defaultProfile, filterPlugins, profileOf, scorePlugins, UnknownPluginError } from "./registry.ts";
export { tolerates, TolerationOperator } from "./taints.ts";
