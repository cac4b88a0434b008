import type { Hl7Segment } from './hl7-segment.ts';
import type { Hl7ErrorCondition } from './hl7-table-0357.ts';

/**
 * The catalogue of HL7 v2 errors dxhub reports, each with its table 0357 condition (for the ERR
 * segment of the ACK) and a fixed message. Error text is chosen here, never at the failure site.
 */
export const HL7_ERRORS = Object.freeze({
  'empty-message': { condition: '100', message: 'Message is empty' },
  'msh-not-first': { condition: '100', message: 'The first segment is not MSH' },
  'batch-header': { condition: '100', message: 'Message starts with a batch header (FHS/BHS); parse it as a batch' },
  'missing-field-separator': { condition: '101', message: 'MSH-1 field separator missing or invalid' },
  'missing-encoding-characters': { condition: '101', message: 'MSH-2 encoding characters missing' },
  'invalid-encoding-characters': { condition: '102', message: 'MSH-2 encoding characters invalid' },
  'missing-message-type': { condition: '101', message: 'MSH-9 message type missing' },
  'missing-control-id': { condition: '101', message: 'MSH-10 message control ID missing' },
  'bad-segment-name': { condition: '100', message: 'Invalid segment name (wrapped line or stray text?)' },
  'second-msh': { condition: '100', message: 'A second MSH segment: several messages concatenated' },
  'batch-segment-in-message': { condition: '100', message: 'Batch segment (FHS/BHS/BTS/FTS) inside a message' },
  'batch-count-mismatch': { condition: '100', message: 'BTS-1 batch message count does not match' },
  'invalid-numeric': { condition: '102', message: 'Not a valid NM (numeric) value' },
  'invalid-date-time': { condition: '102', message: 'Not a valid DTM/TS date-time' },
  'missing-time-zone': {
    condition: '102',
    message: 'Date-time has a time but no UTC offset, and no time zone was given',
  },
  'invalid-structured-numeric': { condition: '102', message: 'Not a valid SN (structured numeric) value' },
  'unstructured-address': {
    condition: '102',
    message: 'XAD address has only a street line: city, state, postal code and country are empty',
  },
} as const satisfies Record<string, { condition: Hl7ErrorCondition; message: string }>);

/** A code of the dxhub HL7 error catalogue. */
export type Hl7ErrorCode = keyof typeof HL7_ERRORS;

/** Where an error is in a message, in ERR-2 (ERL) terms: HL7 v2.5.1 ch. 2, ERR segment. */
export interface Hl7Location {
  readonly segment: string;
  /** 1-based occurrence of the segment in the message (ERL.2). */
  readonly sequence: number;
  readonly field?: number;
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
}

/** A typed HL7 v2 error; `message` comes from {@link HL7_ERRORS} plus an optional detail. */
export interface Hl7Error {
  readonly kind: 'hl7-error';
  readonly code: Hl7ErrorCode;
  /** HL7 table 0357 condition code for ERR-3. */
  readonly condition: Hl7ErrorCondition;
  readonly message: string;
  readonly location?: Hl7Location;
  /** 1-based line of the input (after splitting on CR, LF or CRLF) where the problem was found. */
  readonly line?: number;
  /** Best-effort MSH segment, so an AR/AE acknowledgement can still be addressed to the sender. */
  readonly header?: Hl7Segment;
}

/** Creates a catalogue error, with an optional detail appended to the fixed message. */
export function hl7Error(
  code: Hl7ErrorCode,
  extra: { detail?: string; location?: Hl7Location; line?: number; header?: Hl7Segment | undefined } = {},
): Hl7Error {
  const entry = HL7_ERRORS[code];
  const message = extra.detail ? `${entry.message}: ${extra.detail}` : entry.message;
  return {
    kind: 'hl7-error',
    code,
    condition: entry.condition,
    message,
    ...(extra.location ? { location: extra.location } : {}),
    ...(extra.line !== undefined ? { line: extra.line } : {}),
    ...(extra.header ? { header: extra.header } : {}),
  };
}
