/**
 * Polls `probe` until it returns a value, or fails once `ms` passed: a deadline, not a
 * sleep. Unlike runtime's waitFor, a probe that throws fails at once (the tests that use
 * this want an error seen, not retried).
 */
export async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
