/**
 * Code-unit order, never localeCompare: the decision must not depend on the locale of
 * the machine that computes it (control plane vs an auditor's laptop).
 */
export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
