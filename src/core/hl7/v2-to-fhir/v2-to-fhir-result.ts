import type { Bundle, Identifier } from '@medplum/fhirtypes';
import type { Hl7ErrorCondition } from '../hl7-table-0357.ts';
import { V2_TO_FHIR_ERRORS, type V2ToFhirErrorCode } from './v2-to-fhir-errors.ts';

/**
 * Version of the dxhub HL7 v2 → FHIR mapping. Written into every resource's source extension so a
 * later Provenance step (and a re-run after a mapping fix) can tell which rules produced it.
 */
export const MAPPING_VERSION = 'dxhub-v2-to-fhir/1.0.0';

/** A message mapped to a FHIR R4 transaction Bundle. */
export interface V2ToFhirBundleResult {
  readonly ok: true;
  readonly kind: 'bundle';
  readonly bundle: Bundle;
  /** MSH-9.1^MSH-9.2, e.g. `ORU^R01`. */
  readonly messageType: string;
  /** MSH-10. */
  readonly controlId: string;
  /** Non-fatal findings: local codes kept, non-UCUM units, ambiguous local times … */
  readonly warnings: string[];
}

/** One surviving patient and the identifiers merged into it (ADT^A40, one PID/MRG pair). */
export interface V2PatientMerge {
  /** PID-3 of the surviving patient. */
  readonly surviving: Identifier[];
  /** MRG-1 prior identifiers, to be retired in favour of `surviving`. */
  readonly replaced: Identifier[];
}

/**
 * ADT^A40 (merge patient identifier list): no Bundle, the identity service performs the merge.
 * `surviving`/`replaced` are those of the first PID/MRG pair; `merges` lists every pair.
 */
export interface V2ToFhirMergeResult extends V2PatientMerge {
  readonly ok: true;
  readonly kind: 'merge';
  readonly messageType: string;
  readonly controlId: string;
  readonly merges: V2PatientMerge[];
  readonly warnings: string[];
}

/** A message that cannot be mapped; `code` is the HL7 table 0357 condition for the ACK. */
export interface V2ToFhirFailure {
  readonly ok: false;
  readonly code: Hl7ErrorCondition;
  /** Catalogue key (or the parser's error code), for logs and tests. */
  readonly reason: string;
  readonly message: string;
  readonly segment?: string;
  /** 1-based occurrence of the segment in the message. */
  readonly sequence?: number;
  readonly field?: number;
}

/** The outcome of mapping one message. */
export type V2ToFhirResult = V2ToFhirBundleResult | V2ToFhirMergeResult | V2ToFhirFailure;

/** Where a failure is in the message. */
export interface V2Location {
  readonly segment?: string;
  readonly sequence?: number;
  readonly field?: number;
}

/** Creates a catalogue failure, with an optional detail appended to the fixed message. */
export function v2Failure(code: V2ToFhirErrorCode, location: V2Location = {}, detail?: string): V2ToFhirFailure {
  const entry = V2_TO_FHIR_ERRORS[code];
  return {
    ok: false,
    code: entry.condition,
    reason: code,
    message: detail ? `${entry.message}: ${detail}` : entry.message,
    ...(location.segment ? { segment: location.segment } : {}),
    ...(location.sequence !== undefined ? { sequence: location.sequence } : {}),
    ...(location.field !== undefined ? { field: location.field } : {}),
  };
}

/**
 * Thrown inside the mapper to abort with a catalogue failure; caught by the entry point, which
 * returns it as a {@link V2ToFhirFailure}. Callers of the public API never see it.
 */
export class V2MappingAbort extends Error {
  readonly failure: V2ToFhirFailure;

  constructor(failure: V2ToFhirFailure) {
    super(failure.message);
    this.failure = failure;
  }
}
