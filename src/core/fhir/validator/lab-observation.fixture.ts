/**
 * A typical ~1 KB laboratory Observation (plasma glucose, LOINC + Danish NPU coding), shared by the
 * tests and the micro-benchmark. Returns a fresh object on each call.
 */
export function labObservation(): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id: 'glucose-1',
    meta: { lastUpdated: '2024-03-01T09:15:02.123Z' },
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'laboratory',
            display: 'Laboratory',
          },
        ],
      },
    ],
    code: {
      coding: [
        { system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' },
        { system: 'urn:oid:1.2.208.176.2.1', code: 'NPU02187', display: 'P-Glucose; stofk. = ? mmol/L' },
      ],
      text: 'P-Glucose',
    },
    subject: { reference: 'Patient/p1', display: 'Nancy Berggren' },
    encounter: { reference: 'Encounter/e1' },
    effectiveDateTime: '2024-03-01T08:30:00+01:00',
    issued: '2024-03-01T09:15:00.000Z',
    performer: [{ reference: 'Organization/lab-aarhus', display: 'Klinisk Biokemi, AUH' }],
    valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    interpretation: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
            code: 'N',
            display: 'Normal',
          },
        ],
      },
    ],
    referenceRange: [
      {
        low: { value: 4.0, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        high: { value: 6.0, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      },
    ],
    specimen: { reference: 'Specimen/s1' },
  };
}
