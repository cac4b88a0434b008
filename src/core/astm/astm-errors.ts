/**
 * The catalogue of ASTM errors dxhub reports (low level E1381 / LIS01-A2 and records E1394 /
 * LIS02-A2). Error text is chosen here, never at the failure site.
 */
export const ASTM_ERRORS = Object.freeze({
  'bad-checksum': 'Frame checksum does not match its content',
  'malformed-frame': 'Frame is not <STX> FN text <ETB|ETX> C1 C2',
  'frame-interrupted': 'A control character interrupted the frame',
  'frame-too-long': 'Frame exceeds the maximum frame size',
  'unexpected-frame-number': 'Frame number is not the expected one',
  'message-too-large': 'Message exceeds the maximum message size',
  'incomplete-message': 'Transmission ended inside a record (last frame ended with ETB)',
  'frame-without-session': 'Frame received outside a session (no ENQ)',
  'receiver-timeout': 'No frame or EOT within the receiver time-out; partial message discarded',
  'reply-timeout': 'No reply within the sender time-out; transmission aborted',
  'too-many-rejections': 'Frame rejected six times; transmission aborted',
  'empty-message': 'No records',
  'missing-header': 'First record is not a header (H) record',
  'invalid-delimiters': 'H record delimiter definition is invalid',
  'invalid-record': 'Record does not start with a record type and the field delimiter',
  'invalid-date-time': 'Not a valid YYYYMMDD[HHMMSS] date-time',
  'missing-time-zone': 'Date-time has a time but no time zone was given',
} as const);

/** A code of the ASTM error catalogue. */
export type AstmErrorCode = keyof typeof ASTM_ERRORS;

/** A typed ASTM error. */
export interface AstmError {
  readonly kind: 'astm-error';
  readonly code: AstmErrorCode;
  readonly message: string;
  /** 1-based record line, for record-level errors. */
  readonly line?: number;
  /** Frame number, for frame-level errors. */
  readonly frameNumber?: number;
}

/** Creates a catalogue error with an optional detail appended. */
export function astmError(
  code: AstmErrorCode,
  extra: { detail?: string; line?: number; frameNumber?: number } = {},
): AstmError {
  return {
    kind: 'astm-error',
    code,
    message: extra.detail ? `${ASTM_ERRORS[code]}: ${extra.detail}` : ASTM_ERRORS[code],
    ...(extra.line !== undefined ? { line: extra.line } : {}),
    ...(extra.frameNumber !== undefined ? { frameNumber: extra.frameNumber } : {}),
  };
}
