// Its own file, with no imports, so that cluster-info, snapshot and framework can all
// name it without importing one another in a circle.

/** Where a cluster sits, for scores that depend on what is already chosen. */
export interface Locality {
  readonly country: string;
  /** country + "/" + region */
  readonly regionKey: string;
  /** Indexes into SelectionState's counts, valid for one decision. */
  readonly countryIndex: number;
  readonly regionIndex: number;
}
