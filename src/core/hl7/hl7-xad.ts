import { type Hl7Error, hl7Error } from './hl7-errors.ts';
import type { Hl7Repetition } from './hl7-repetition.ts';
import { err, ok, type Result } from './result.ts';

/** An XAD address (HL7 v2.5.1 ch. 2A, XAD data type); empty parts are omitted. */
export interface Hl7Xad {
  /** XAD.1.1 street or mailing address (SAD data type, first subcomponent). */
  readonly street?: string;
  /** XAD.1.2 street name and XAD.1.3 dwelling number. */
  readonly streetName?: string;
  readonly dwellingNumber?: string;
  /** XAD.2 other designation (c/o, floor, suite). */
  readonly otherDesignation?: string;
  readonly city?: string;
  readonly state?: string;
  readonly postalCode?: string;
  /** XAD.6 country (ISO 3166). */
  readonly country?: string;
  /** XAD.7 address type (table 0190: H home, B business, M mailing …). */
  readonly addressType?: string;
  readonly otherGeographic?: string;
  /** XAD.9 county/parish code (in Denmark the municipality code). */
  readonly countyCode?: string;
}

/** Reads one XAD repetition. */
export function parseXad(rep: Hl7Repetition): Hl7Xad {
  const parts: [keyof Hl7Xad, string][] = [
    ['street', rep.component(1, 1)],
    ['streetName', rep.component(1, 2)],
    ['dwellingNumber', rep.component(1, 3)],
    ['otherDesignation', rep.component(2)],
    ['city', rep.component(3)],
    ['state', rep.component(4)],
    ['postalCode', rep.component(5)],
    ['country', rep.component(6)],
    ['addressType', rep.component(7)],
    ['otherGeographic', rep.component(8)],
    ['countyCode', rep.component(9)],
  ];
  return Object.fromEntries(parts.filter(([, v]) => v !== '')) as Hl7Xad;
}

/**
 * Reads an XAD and rejects a whole address crammed into XAD.1 (no city, state, postal code or
 * country): a free-text address sent where structure is required cannot be mapped to FHIR
 * `Address.city/postalCode` and usually means the sender serialised the wrong type.
 */
export function parseStructuredXad(rep: Hl7Repetition): Result<Hl7Xad, Hl7Error> {
  const xad = parseXad(rep);
  if (xad.street && !xad.city && !xad.state && !xad.postalCode && !xad.country) {
    return err(hl7Error('unstructured-address', { detail: `"${rep.raw}"` }));
  }
  return ok(xad);
}
