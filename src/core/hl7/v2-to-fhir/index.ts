/** HL7 v2 → FHIR R4 mapping (V2-to-FHIR IG): pure functions from a parsed message to a transaction Bundle. */
export { DEFAULT_TIME_ZONE, type FhirDateTimeValue, type LocalTimeKind, toFhirDateTime } from './local-date-time.ts';
export { REPORT_NOTE_EXTENSION } from './map-diagnostic-report.ts';
export { mapHl7TextToFhir, mapHl7ToFhir } from './map-hl7-to-fhir.ts';
export { OBSERVATION_KEY_SYSTEM } from './map-observation.ts';
export { HL7V2_SOURCE_EXTENSION, type V2ToFhirOptions } from './mapping-context.ts';
export { OBSERVATION_ATTACHMENT_EXTENSION } from './observation-value.ts';
export { looksLikeUcum } from './ucum-syntax.ts';
export { LOINC_SYSTEM, NPU_SYSTEM, SNOMED_SYSTEM, UCUM_SYSTEM } from './v2-code-systems.ts';
export { V2_TO_FHIR_ERRORS, type V2ToFhirErrorCode } from './v2-to-fhir-errors.ts';
export {
  MAPPING_VERSION,
  type V2PatientMerge,
  type V2ToFhirBundleResult,
  type V2ToFhirFailure,
  type V2ToFhirMergeResult,
  type V2ToFhirResult,
} from './v2-to-fhir-result.ts';
