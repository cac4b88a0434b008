/** LOINC (FHIR R4 terminologies: `http://loinc.org`). */
export const LOINC_SYSTEM = 'http://loinc.org';
/** NPU as DK-core ≥ 3.4.0 and the HL7 EU Laboratory IG name it (identity-and-terminology.md §3). */
export const NPU_SYSTEM = 'http://npu-terminology.org';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

/**
 * HL7 table 0396 coding-system names dxhub maps to a FHIR system (V2-to-FHIR IG, `CWE[Coding]`:
 * CWE.3 → `Coding.system` via the table-0396 ConceptMap). NPU's older OID name is normalised to the
 * URI, as the terminology note asks. Every other name is a local system: codes are never translated.
 */
const KNOWN_SYSTEMS: Readonly<Record<string, string>> = {
  LN: LOINC_SYSTEM,
  LOINC: LOINC_SYSTEM,
  NPU: NPU_SYSTEM,
  'urn:oid:1.2.208.176.2.1': NPU_SYSTEM,
  '1.2.208.176.2.1': NPU_SYSTEM,
  SCT: SNOMED_SYSTEM,
  SNOMEDCT: SNOMED_SYSTEM,
  UCUM: UCUM_SYSTEM,
  I10: 'http://hl7.org/fhir/sid/icd-10',
};

/** A coding system resolved from a CWE.3 name. */
export interface ResolvedCodeSystem {
  readonly system: string;
  /** True when the name is not a recognised public terminology (the code is a sender-local code). */
  readonly local: boolean;
}

/**
 * The FHIR system for a CWE.3 coding-system name. `HL7nnnn` tables become
 * `http://terminology.hl7.org/CodeSystem/v2-nnnn`; unknown or missing names become a system local to
 * the sender, `<localBase>:<name>` or `<localBase>` itself when no name was sent.
 */
export function resolveCodeSystem(name: string | undefined, localBase: string): ResolvedCodeSystem {
  const trimmed = (name ?? '').trim();
  const known = KNOWN_SYSTEMS[trimmed] ?? KNOWN_SYSTEMS[trimmed.toUpperCase()];
  if (known) return { system: known, local: false };
  const table = /^HL7-?(\d{4})$/i.exec(trimmed);
  if (table) return { system: `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`, local: false };
  if (trimmed === '') return { system: localBase, local: true };
  return { system: `${localBase}:${encodeURIComponent(trimmed)}`, local: true };
}

/** The local-system base for a sender: `urn:dxhub:local:<MSH-3>:<MSH-4>` (URI-encoded parts). */
export function localSystemBase(sendingApplication: string, sendingFacility: string): string {
  return `urn:dxhub:local:${encodeURIComponent(sendingApplication || 'unknown')}:${encodeURIComponent(sendingFacility || 'unknown')}`;
}
