import type { Identifier } from '@medplum/fhirtypes';
import { parseCpr } from './cpr.ts';
import { CPR_SYSTEM, type DanishRegion, dEcprSystem, X_ECPR_SYSTEM } from './identifier-systems.ts';
import { identityProblem } from './identity-problem.ts';
import { parseReplacementCpr } from './replacement-cpr.ts';

/** A FHIR R4 `Identifier` for a person, with the fields DK-core makes mandatory. */
export interface PersonIdentifier extends Identifier {
  readonly use: 'official' | 'temp';
  readonly system: string;
  readonly value: string;
}

/**
 * DK-core CPR identifier: `use = official`, system `urn:oid:1.2.208.176.1.2`, 10 digits.
 * @throws RangeError (catalogue reason) when the input is not a valid CPR; parse at the edge first.
 */
export function cprIdentifier(cpr: string): PersonIdentifier {
  const parsed = parseCpr(cpr);
  if (!parsed.ok) throw new RangeError(parsed.reason);
  return { use: 'official', system: CPR_SYSTEM, value: parsed.cpr };
}

/** Options for {@link replacementCprIdentifier}. */
export interface ReplacementCprIdentifierOptions {
  /** Issuing region of a D-eCPR; selects the region's child OID. Not allowed for an X-eCPR. */
  readonly region?: DanishRegion;
}

/**
 * DK-core X-eCPR or D-eCPR identifier (`use = temp`); the kind is read from position 7.
 * @throws RangeError (catalogue reason) when the input is not a replacement CPR, or when a region
 * is given for an X-eCPR (national numbers have a single system).
 */
export function replacementCprIdentifier(
  value: string,
  options: ReplacementCprIdentifierOptions = {},
): PersonIdentifier {
  const parsed = parseReplacementCpr(value);
  if (!parsed.ok) throw new RangeError(parsed.reason);
  if (parsed.kind === 'x-ecpr') {
    if (options.region !== undefined) {
      throw new RangeError(identityProblem('bad-option', `region ${options.region} with an X-eCPR`).reason);
    }
    return { use: 'temp', system: X_ECPR_SYSTEM, value: parsed.value };
  }
  return { use: 'temp', system: dEcprSystem(options.region), value: parsed.value };
}
