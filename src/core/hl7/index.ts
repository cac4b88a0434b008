/** HL7 v2 protocol code: ER7 parsing, data types, ACK building, encoding and MLLP framing. Pure, no I/O. */
export {
  ackErrorFrom,
  buildAck,
  type Hl7AckCode,
  type Hl7AckError,
  type Hl7AckOptions,
  type Hl7Severity,
} from './build-ack.ts';
export { encodeHl7, encodeHl7Segment, type Hl7FieldInput, type Hl7SegmentInput } from './encode-hl7.ts';
export { charsetFromMsh18, decodeHl7Bytes, readMsh18 } from './hl7-charset.ts';
export { type Hl7Coded, parseCe, parseCwe } from './hl7-coded.ts';
export { type Hl7Cx, parseCx } from './hl7-cx.ts';
export {
  type Hl7DateTime,
  type Hl7DateTimePrecision,
  parseHl7Date,
  parseHl7DateTime,
  parseHl7DateTimeParts,
} from './hl7-date-time.ts';
export { DEFAULT_HL7_DELIMITERS, type Hl7Delimiters } from './hl7-delimiters.ts';
export { HL7_ERRORS, type Hl7Error, type Hl7ErrorCode, type Hl7Location } from './hl7-errors.ts';
export { escapeHl7, unescapeHl7 } from './hl7-escape.ts';
export { type Hl7Hd, hdFromParts } from './hl7-hd.ts';
export { Hl7Message, type Hl7MessageType } from './hl7-message.ts';
export { type Hl7Numeric, isHl7Numeric, parseHl7Numeric } from './hl7-numeric.ts';
export { Hl7Repetition } from './hl7-repetition.ts';
export { Hl7Segment } from './hl7-segment.ts';
export { type Hl7Sn, parseSn } from './hl7-sn.ts';
export { HL7_TABLE_0357, type Hl7ErrorCondition } from './hl7-table-0357.ts';
export { type Hl7Xad, parseStructuredXad, parseXad } from './hl7-xad.ts';
export { type Hl7Xpn, parseXpn } from './hl7-xpn.ts';
export {
  frameMllp,
  MLLP_COMMIT_ACK,
  MLLP_COMMIT_NAK,
  type MllpEvent,
  MllpFramer,
  mllpCommitKind,
} from './mllp-framer.ts';
export { type Hl7ParseOptions, parseHl7 } from './parse-hl7.ts';
export { type Hl7Batch, parseHl7Batch } from './parse-hl7-batch.ts';
export { type Hl7MessageAcknowledgment, readMsa } from './read-msa.ts';
export { type Hl7Header, readMsh } from './read-msh.ts';
export { type Hl7Ei, type Hl7ObservationRequest, parseEi, readObr } from './read-obr.ts';
export { type Hl7Observation, readObx } from './read-obx.ts';
export { type Hl7Patient, readPid } from './read-pid.ts';
export { err, ok, type Result } from './result.ts';
export {
  HL7V2_SOURCE_EXTENSION,
  MAPPING_VERSION,
  mapHl7TextToFhir,
  mapHl7ToFhir,
  OBSERVATION_KEY_SYSTEM,
  type V2PatientMerge,
  type V2ToFhirBundleResult,
  type V2ToFhirFailure,
  type V2ToFhirMergeResult,
  type V2ToFhirOptions,
  type V2ToFhirResult,
} from './v2-to-fhir/index.ts';
export { validateObxValues } from './validate-obx-values.ts';
