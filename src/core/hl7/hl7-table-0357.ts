/**
 * HL7 table 0357 "Message error condition codes" (HL7 v2.5.1 ch. 2, ERR-3), used in
 * ACK ERR segments. Codes 0–99 success, 100–199 errors, 200–299 rejections.
 */
export const HL7_TABLE_0357 = Object.freeze({
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
});

/** A code from HL7 table 0357. */
export type Hl7ErrorCondition = keyof typeof HL7_TABLE_0357;
