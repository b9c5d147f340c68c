const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * The first instant (epoch ms) at which a certification with this `validUntil` no
 * longer counts, or NaN when the value cannot be read (NaN compares false with
 * everything, so such a certification never counts: fail closed).
 *
 * A date alone ("2027-06-30") is valid through the end of that day, UTC: API.md says
 * "validUntil on or after now", and an auditor reads a certificate's end date as
 * inclusive.
 */
export function validityEnd(validUntil: string): number {
  const date = DATE_ONLY.exec(validUntil);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const start = Date.UTC(y, m - 1, d);
    const back = new Date(start);
    // Date.UTC rolls 2027-02-30 over to March 2nd; a date that does not exist is unreadable.
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return NaN;
    return start + 86_400_000;
  }
  if (TIMESTAMP.test(validUntil)) {
    const t = Date.parse(validUntil);
    return Number.isNaN(t) ? NaN : t + 1;
  }
  return NaN;
}

/** Whether a certification ending at `end` (from validityEnd) still counts at `now`. */
export function isValidAt(end: number, now: number): boolean {
  return now < end;
}
