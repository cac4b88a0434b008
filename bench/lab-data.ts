import { randomUUID } from 'node:crypto';
import type { Resource } from '../src/store/repository.ts';

/** Code systems of a Danish lab result: NPU (primary), LOINC (mapping), UCUM units. */
export const NPU = 'urn:oid:1.2.208.176.2.1';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const CPR = 'urn:oid:1.2.208.176.1.2';
/** Accession-number system of the (fictitious) regional lab. */
export const LAB_ID = 'urn:oid:1.2.208.176.7.1.10.99';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** One analysis of the repertoire: codes, UCUM unit and reference interval. */
export interface Analysis {
  readonly npu: string;
  readonly loinc: string;
  readonly display: string;
  readonly unit: string;
  readonly low: number;
  readonly high: number;
  readonly decimals: number;
}

/**
 * Twenty everyday analyses (haematology, chemistry, endocrinology). Codes and intervals are
 * plausible for shape and size; this table is not a terminology reference.
 */
export const ANALYSES: readonly Analysis[] = [
  { npu: 'NPU02319', loinc: '59260-0', display: 'B—Hæmoglobin', unit: 'mmol/L', low: 7.3, high: 10.5, decimals: 1 },
  { npu: 'NPU02593', loinc: '6690-2', display: 'B—Leukocytter', unit: '10*9/L', low: 3.5, high: 10, decimals: 1 },
  { npu: 'NPU03568', loinc: '777-3', display: 'B—Trombocytter', unit: '10*9/L', low: 145, high: 390, decimals: 0 },
  { npu: 'NPU03429', loinc: '2951-2', display: 'P—Natrium', unit: 'mmol/L', low: 137, high: 145, decimals: 0 },
  { npu: 'NPU03230', loinc: '2823-3', display: 'P—Kalium', unit: 'mmol/L', low: 3.5, high: 4.4, decimals: 1 },
  { npu: 'NPU18016', loinc: '14682-9', display: 'P—Kreatinin', unit: 'umol/L', low: 45, high: 105, decimals: 0 },
  { npu: 'DNK35302', loinc: '98979-8', display: 'P—eGFR', unit: 'mL/min', low: 60, high: 120, decimals: 0 },
  { npu: 'NPU01459', loinc: '22664-7', display: 'P—Carbamid', unit: 'mmol/L', low: 2.6, high: 8.1, decimals: 1 },
  { npu: 'NPU19748', loinc: '1988-5', display: 'P—C-reaktivt protein', unit: 'mg/L', low: 0, high: 8, decimals: 0 },
  { npu: 'NPU27300', loinc: '59261-8', display: 'B—Hæmoglobin A1c', unit: 'mmol/mol', low: 20, high: 42, decimals: 0 },
  { npu: 'NPU01566', loinc: '14647-2', display: 'P—Kolesterol', unit: 'mmol/L', low: 3, high: 5, decimals: 1 },
  { npu: 'NPU01567', loinc: '14646-4', display: 'P—Kolesterol HDL', unit: 'mmol/L', low: 1, high: 2.5, decimals: 1 },
  { npu: 'NPU01568', loinc: '22748-8', display: 'P—Kolesterol LDL', unit: 'mmol/L', low: 1.5, high: 3, decimals: 1 },
  { npu: 'NPU04094', loinc: '14927-8', display: 'P—Triglycerid', unit: 'mmol/L', low: 0.5, high: 2, decimals: 1 },
  { npu: 'NPU19651', loinc: '1742-6', display: 'P—Alanintransaminase', unit: 'U/L', low: 10, high: 70, decimals: 0 },
  { npu: 'NPU01370', loinc: '6768-6', display: 'P—Basisk fosfatase', unit: 'U/L', low: 35, high: 105, decimals: 0 },
  { npu: 'NPU03577', loinc: '3016-3', display: 'P—Thyrotropin', unit: 'm[IU]/L', low: 0.3, high: 4, decimals: 2 },
  { npu: 'NPU02192', loinc: '14749-6', display: 'P—Glukose', unit: 'mmol/L', low: 4.2, high: 7.1, decimals: 1 },
  { npu: 'NPU01443', loinc: '2276-4', display: 'P—Ferritin', unit: 'ug/L', low: 20, high: 300, decimals: 0 },
  {
    npu: 'NPU03688',
    loinc: '14804-9',
    display: 'P—Laktatdehydrogenase',
    unit: 'U/L',
    low: 105,
    high: 205,
    decimals: 0,
  },
];

/** A deterministic pseudo-random generator (mulberry32), so that runs load the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantity = (value: number, a: Analysis) => ({ value, unit: a.unit, system: UCUM, code: a.unit });

/** A Patient with a (synthetic) CPR number. */
export function patient(n: number, id?: string): Resource {
  const day = String((n % 28) + 1).padStart(2, '0');
  const month = String((Math.floor(n / 28) % 12) + 1).padStart(2, '0');
  return {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    identifier: [
      {
        system: CPR,
        value: `${day}${month}${String(n % 100).padStart(2, '0')}${String(n).slice(-4).padStart(4, '0')}`,
      },
    ],
    name: [{ family: 'Jensen', given: ['Testperson', String(n)] }],
    gender: n % 2 ? 'male' : 'female',
    birthDate: `19${String(40 + (n % 60)).padStart(2, '0')}-${month}-${day}`,
  };
}

/**
 * A final lab result: NPU + LOINC code, subject, effectiveDateTime, issued, UCUM valueQuantity,
 * referenceRange and interpretation (H/L/N from the interval), and a lab accession identifier.
 */
export function observation(opts: {
  analysis: Analysis;
  patientId: string;
  at: number;
  random: () => number;
  accession: string;
}): Resource {
  const a = opts.analysis;
  const span = a.high - a.low;
  const value = Number((a.low - span * 0.15 + opts.random() * span * 1.3).toFixed(a.decimals));
  const flag = value > a.high ? 'H' : value < a.low ? 'L' : 'N';
  return {
    resourceType: 'Observation',
    identifier: [{ system: LAB_ID, value: opts.accession }],
    status: 'final',
    category: [{ coding: [{ system: CATEGORY, code: 'laboratory' }] }],
    code: {
      coding: [
        { system: NPU, code: a.npu, display: a.display },
        { system: LOINC, code: a.loinc },
      ],
    },
    subject: { reference: `Patient/${opts.patientId}` },
    effectiveDateTime: new Date(opts.at).toISOString().replace('.000Z', 'Z'),
    issued: new Date(opts.at + 3_600_000).toISOString(),
    valueQuantity: quantity(value, a),
    interpretation: [{ coding: [{ system: INTERPRETATION, code: flag }] }],
    referenceRange: [{ low: quantity(a.low, a), high: quantity(a.high, a) }],
  };
}

/**
 * A transaction Bundle of one DiagnosticReport and ten Observations (a chemistry panel) whose
 * `result` references the Observations by their `urn:uuid:` fullUrls (R4 §3.1.0.11.2).
 */
export function labBundle(patientId: string, at: number, random: () => number, accession: string): string {
  const obs = ANALYSES.slice(3, 13).map((analysis, i) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: observation({ analysis, patientId, at, random, accession: `${accession}-${i + 1}` }),
    request: { method: 'POST', url: 'Observation' },
  }));
  const report: Resource = {
    resourceType: 'DiagnosticReport',
    identifier: [{ system: LAB_ID, value: accession }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'CH' }] }],
    code: { coding: [{ system: LOINC, code: '24323-8', display: 'Comprehensive metabolic panel' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: new Date(at).toISOString(),
    issued: new Date(at + 3_600_000).toISOString(),
    result: obs.map((o) => ({ reference: o.fullUrl })),
  };
  return JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: report, request: { method: 'POST', url: 'DiagnosticReport' } },
      ...obs,
    ],
  });
}
