/**
 * A suite that needs a tool the machine lacks (promtool, podman). Every .mocharc forbids
 * pending tests, so a skip already fails the run; in CI (the CI environment variable set)
 * this fails with the cause instead of mocha's bare "Pending test forbidden": a check that
 * silently did not run is not a check that passed. On a developer's machine it skips,
 * which passes only under `mocha --no-forbid-pending` (the message says so).
 */
export function ciRequiresTools(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
}

export function skipForMissingTool(ctx: Mocha.Context, params: { tool: string; install: string; env?: NodeJS.ProcessEnv }): never {
  const message = `${params.tool} not found (${params.install})`;
  if (ciRequiresTools(params.env)) throw new Error(`${message}: CI is set, so this suite fails instead of skipping`);
  console.log(`    ${message}: skipping (pending tests fail the run unless mocha runs with --no-forbid-pending)`);
  ctx.skip();
}
