import { ReasonBit, isValidAt, type FilterPlugin } from "../core/index.ts";

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
    return (snapshot, verdicts) => {
      for (const name of required) {
        const ends = snapshot.columns.certificationEnds(name);
        for (let i = 0; i < ends.length; i++) {
          const end = ends[i]!;
          if (Number.isNaN(end)) verdicts[i]! |= ReasonBit.MissingCertification;
          else if (!isValidAt(end, now)) verdicts[i]! |= ReasonBit.CertificationExpired;
        }
      }
    };
  },
};
