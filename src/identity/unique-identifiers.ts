import { CPR_SYSTEM, type DanishRegion, dEcprSystem, X_ECPR_SYSTEM } from '../core/identity/index.ts';

/**
 * Person identifiers that name one Patient record only: the CPR, the national X-eCPR and the
 * region's own D-eCPR (D-eCPRs of other regions may collide, so they are not unique here).
 */
export function uniquePatientIdentifiers(region: DanishRegion): Record<string, readonly string[]> {
  return { Patient: [CPR_SYSTEM, X_ECPR_SYSTEM, dEcprSystem(region)] };
}
