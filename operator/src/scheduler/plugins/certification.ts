import type { FilterPlugin } from "../core/framework.ts";
import { only, PASS, Reason } from "../core/reasons.ts";
import { isValidAt } from "../core/validity.ts";

const BOTH = Object.freeze([Reason.MissingCertification, Reason.CertificationExpired] as const);

/**
 * Every required certification (from policy and inline alike) must be held with a
 * validity that reaches "now". Names match exactly: a near-miss spelling is missing,
 * never assumed. A certification held only in expired form is CertificationExpired,
 * so an admin sees that renewal, not procurement, is what is needed.
 */
export const certification: FilterPlugin = {
  name: "Certification",
  prepare: ({ request, now }) => {
    const required = [...new Set(request.constraints.flatMap((c) => c.requiredCertifications ?? []))];
    if (required.length === 0) return null;
    return (cluster) => {
      let missing = false;
      let expired = false;
      for (const name of required) {
        let held = false;
        let valid = false;
        for (const c of cluster.certifications) {
          if (c.name !== name) continue;
          held = true;
          if (isValidAt(c.end, now)) {
            valid = true;
            break;
          }
        }
        if (!held) missing = true;
        else if (!valid) expired = true;
      }
      return missing ? (expired ? BOTH : only.MissingCertification) : expired ? only.CertificationExpired : PASS;
    };
  },
};
