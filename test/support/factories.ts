import type { Resource } from '../../src/store/repository.ts';

/** Small factories for test data; each call makes fresh, valid R4 resources. */
export const LOINC = 'http://loinc.org';
export const NPU = 'urn:oid:1.2.208.176.2.1';
export const UCUM = 'http://unitsofmeasure.org';
export const CPR_SYSTEM = 'urn:oid:1.2.208.176.1.2';

let seq = 0;

export function patient(over: Partial<Resource> = {}): Resource {
  seq++;
  return {
    resourceType: 'Patient',
    identifier: [{ system: CPR_SYSTEM, value: `01019${String(seq).padStart(5, '0')}`.slice(0, 10) }],
    name: [{ family: 'Jensen', given: ['Søren'] }],
    gender: 'male',
    birthDate: '1990-01-01',
    ...over,
  };
}

export function observation(
  over: Partial<Resource> & { subject?: string; code?: string; value?: number; date?: string } = {},
): Resource {
  const { subject = 'Patient/p1', code = '718-7', value = 7.2, date = '2024-01-01T10:00:00Z', ...rest } = over;
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
    ],
    code: { coding: [{ system: LOINC, code, display: 'Hemoglobin' }], text: 'Hb' },
    subject: { reference: subject },
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
    ...rest,
  };
}
