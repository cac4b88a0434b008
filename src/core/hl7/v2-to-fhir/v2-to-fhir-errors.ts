import type { Hl7ErrorCondition } from '../hl7-table-0357.ts';

/**
 * Why a message cannot be mapped to FHIR, each with its HL7 table 0357 condition (for the ERR
 * segment of the ACK) and a fixed message. Text is chosen here, never at the failure site.
 */
export const V2_TO_FHIR_ERRORS = Object.freeze({
  'unsupported-message-type': { condition: '200', message: 'Unsupported message type' },
  'unsupported-event': { condition: '201', message: 'Unsupported trigger event for this message type' },
  'missing-segment': { condition: '100', message: 'Required segment missing' },
  'missing-patient-identifier': { condition: '101', message: 'PID-3 patient identifier list is empty' },
  'missing-order-number': {
    condition: '101',
    message: 'No placer or filler order number (ORC-2/ORC-3, OBR-2/OBR-3)',
  },
  'missing-observation-code': { condition: '101', message: 'OBX-3 observation identifier is empty' },
  'missing-prior-identifier': { condition: '101', message: 'MRG-1 prior patient identifier list is empty' },
  'invalid-observation-value': { condition: '102', message: 'OBX-5 does not match the OBX-2 value type' },
  'internal-error': { condition: '207', message: 'Internal error while mapping the message' },
} as const satisfies Record<string, { condition: Hl7ErrorCondition; message: string }>);

/** A code of the V2-to-FHIR error catalogue. */
export type V2ToFhirErrorCode = keyof typeof V2_TO_FHIR_ERRORS;
