/** CPR, DK-core `DkCoreCprIdentifier` (`use = #official`). */
export const CPR_SYSTEM = 'urn:oid:1.2.208.176.1.2';

/** X-eCPR (Nationalt eCPR), DK-core `DkCoreXeCprIdentifier` (`use = #temp`). */
export const X_ECPR_SYSTEM = 'urn:oid:1.2.208.176.1.6.1.1';

/** D-eCPR without a region, DK-core `DkCoreDeCprIdentifier` (`use = #temp`). */
export const D_ECPR_SYSTEM = 'urn:oid:1.2.208.176.1.6.1.3';

/**
 * Region child arcs of the D-eCPR OID, as data. From DK-core's CodeSystem `dk-core-d-ecpr-codes`
 * (`input/fsh/codeSystems.fsh`); the research note confirms Syddanmark `…1.6.1.3.183`.
 */
export const D_ECPR_REGION_ARCS = {
  sjaelland: '177',
  nordjylland: '179',
  midtjylland: '181',
  syddanmark: '183',
  hovedstaden: '187',
} as const;

/** A Danish region that issues D-eCPR numbers under its own child OID. */
export type DanishRegion = keyof typeof D_ECPR_REGION_ARCS;

/** The D-eCPR system URI, with the region's child arc when a region is given. */
export function dEcprSystem(region?: DanishRegion): string {
  return region === undefined ? D_ECPR_SYSTEM : `${D_ECPR_SYSTEM}.${D_ECPR_REGION_ARCS[region]}`;
}

/** Which person-identifier kind an `Identifier.system` denotes, or `undefined` for any other system. */
export function personIdentifierKindOfSystem(system: string): 'cpr' | 'x-ecpr' | 'd-ecpr' | undefined {
  if (system === CPR_SYSTEM) return 'cpr';
  if (system === X_ECPR_SYSTEM) return 'x-ecpr';
  if (
    system === D_ECPR_SYSTEM ||
    Object.values(D_ECPR_REGION_ARCS).some((arc) => system === `${D_ECPR_SYSTEM}.${arc}`)
  ) {
    return 'd-ecpr';
  }
  return undefined;
}
