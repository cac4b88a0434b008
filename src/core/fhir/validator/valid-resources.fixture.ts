/**
 * Valid R4 resources of the kinds dxhub handles, for the validator tests. Each factory returns a
 * fresh object so tests can mutate it.
 */

type Json = Record<string, unknown>;

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

/** Patient with primitive extensions (`_birthDate`, `_given` aligned by null). */
export function patient(): Json {
  return {
    resourceType: 'Patient',
    id: 'p1',
    meta: { versionId: '3', lastUpdated: '2024-01-02T03:04:05Z', profile: ['http://example.org/fhir/Patient'] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Nancy Berggren</div>' },
    identifier: [{ use: 'official', system: 'urn:oid:1.2.208.176.1.2', value: '0101701234' }],
    active: true,
    name: [{ use: 'official', family: 'Berggren', given: ['Nancy', 'Ann'], _given: [null, { id: 'g2' }] }],
    telecom: [{ system: 'phone', value: '+45 12 34 56 78', use: 'mobile', rank: 1 }],
    gender: 'female',
    birthDate: '1970-01-01',
    _birthDate: {
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime',
          valueDateTime: '1970-01-01T06:30:00+01:00',
        },
      ],
    },
    deceasedBoolean: false,
    address: [{ use: 'home', line: ['Nørregade 1'], city: 'Aarhus', postalCode: '8000', country: 'DK' }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'da' }] }, preferred: true }],
  };
}

/** Blood-pressure panel with components. */
export function vitalSignsObservation(): Json {
  const mmHg = (value: number): Json => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
  return {
    resourceType: 'Observation',
    status: 'amended',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
    ],
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: 'Patient/p1' },
    effectivePeriod: { start: '2024-03-01T08:00:00Z', end: '2024-03-01T08:05:00Z' },
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: mmHg(120) },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: mmHg(80) },
      {
        code: { text: 'cuff size' },
        dataAbsentReason: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' }],
        },
      },
    ],
    note: [{ text: 'Sitting, **left** arm', time: '2024-03-01' }],
  };
}

/** DiagnosticReport with results and a PDF. */
export function diagnosticReport(): Json {
  return {
    resourceType: 'DiagnosticReport',
    id: 'dr-1',
    basedOn: [{ reference: 'ServiceRequest/sr-1' }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
    code: { coding: [{ system: LOINC, code: '24323-8' }], text: 'Metabolic panel' },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2024-03-01',
    issued: '2024-03-01T10:00:00.5+01:00',
    performer: [{ reference: 'Organization/lab-aarhus' }],
    result: [{ reference: 'Observation/glucose-1' }, { reference: 'Observation/k-1' }],
    conclusion: 'Normal',
    presentedForm: [{ contentType: 'application/pdf', language: 'da', data: 'JVBERi0xLjQK', title: 'Report' }],
  };
}

/** A lab order. */
export function serviceRequest(): Json {
  return {
    resourceType: 'ServiceRequest',
    identifier: [{ system: 'urn:oid:1.2.208.176.7.2', value: 'REQ-0001' }],
    status: 'active',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: LOINC, code: '2345-7' }] },
    subject: { reference: 'Patient/p1' },
    occurrenceTiming: { repeat: { frequency: 1, period: 1, periodUnit: 'd', count: 3 } },
    authoredOn: '2024-02-28T12:00:00+01:00',
    requester: { reference: 'Practitioner/dr-1' },
    specimen: [{ reference: 'Specimen/s1' }],
  };
}

/** A blood specimen. */
export function specimen(): Json {
  return {
    resourceType: 'Specimen',
    accessionIdentifier: { value: 'ACC-42' },
    status: 'available',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0487', code: 'BLD' }] },
    subject: { reference: 'Patient/p1' },
    receivedTime: '2024-03-01T08:40:00+01:00',
    collection: {
      collectedDateTime: '2024-03-01T08:30:00+01:00',
      quantity: { value: 4, unit: 'mL', system: UCUM, code: 'mL' },
      bodySite: { text: 'left arm' },
    },
    container: [
      { specimenQuantity: { value: 4, system: UCUM, code: 'mL' }, additiveCodeableConcept: { text: 'EDTA' } },
    ],
  };
}

/** A transaction with a Patient and an Observation. */
export function transactionBundle(): Json {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:2f1e8f3c-1d5a-4b7e-9c1a-2b3c4d5e6f70',
        resource: patient(),
        request: { method: 'PUT', url: 'Patient/p1' },
      },
      { resource: specimen(), request: { method: 'POST', url: 'Specimen', ifNoneExist: 'accession=ACC-42' } },
      { resource: vitalSignsObservation(), request: { method: 'POST', url: 'Observation' } },
    ],
  };
}

/** A search result with paging links (Bundle.entry.link is a contentReference to Bundle.link). */
export function searchsetBundle(): Json {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: 1,
    link: [{ relation: 'self', url: 'https://dxhub.example/fhir/Patient?name=berggren' }],
    entry: [
      {
        fullUrl: 'https://dxhub.example/fhir/Patient/p1',
        link: [{ relation: 'alternate', url: 'https://dxhub.example/fhir/Patient/p1/_history/3' }],
        resource: patient(),
        search: { mode: 'match', score: 1 },
      },
    ],
  };
}

/** A CT study. */
export function imagingStudy(): Json {
  return {
    resourceType: 'ImagingStudy',
    identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:2.16.124.113543.6003.1154777499.30246.19789.3503430045' }],
    status: 'available',
    subject: { reference: 'Patient/p1' },
    started: '2024-03-02T10:00:00+01:00',
    numberOfSeries: 1,
    numberOfInstances: 2,
    series: [
      {
        uid: '2.16.124.113543.6003.2588828330.45298.17418.2723805630',
        number: 3,
        modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' },
        numberOfInstances: 2,
        bodySite: { system: 'http://snomed.info/sct', code: '67734004', display: 'Upper Trunk Structure' },
        instance: [
          {
            uid: '2.16.124.113543.6003.189642796.63084.16748.2599092903',
            sopClass: { code: '1.2.840.10008.5.1.4.1.1.2' },
            number: 1,
          },
          {
            uid: '2.16.124.113543.6003.189642796.63084.16748.2599092904',
            sopClass: { code: '1.2.840.10008.5.1.4.1.1.2' },
            number: 2,
          },
        ],
      },
    ],
  };
}

/** Questionnaire with groups nesting items (Questionnaire.item.item is a contentReference). */
export function nestedQuestionnaire(): Json {
  return {
    resourceType: 'Questionnaire',
    url: 'http://example.org/Questionnaire/intake',
    status: 'active',
    item: [
      {
        linkId: 'g1',
        type: 'group',
        text: 'Symptoms',
        item: [
          { linkId: 'g1.q1', type: 'boolean', text: 'Fever?' },
          {
            linkId: 'g1.q2',
            type: 'choice',
            enableWhen: [{ question: 'g1.q1', operator: '=', answerBoolean: true }],
            answerOption: [{ valueCoding: { code: 'mild' } }, { valueString: 'severe', initialSelected: true }],
            item: [{ linkId: 'g1.q2.n', type: 'display', text: 'Pick one' }],
          },
        ],
      },
    ],
  };
}

/** Response whose answers nest items (QuestionnaireResponse.item.answer.item). */
export function questionnaireResponse(): Json {
  return {
    resourceType: 'QuestionnaireResponse',
    questionnaire: 'http://example.org/Questionnaire/intake|1.0',
    status: 'completed',
    item: [
      {
        linkId: 'g1',
        item: [
          {
            linkId: 'g1.q1',
            answer: [{ valueBoolean: true, item: [{ linkId: 'g1.q1.x', answer: [{ valueDecimal: 38.5 }] }] }],
          },
        ],
      },
    ],
  };
}

/** A ServiceRequest carrying its Patient and Specimen as contained resources. */
export function containedServiceRequest(): Json {
  const { id: _id, meta: _meta, ...contained } = patient();
  return {
    ...serviceRequest(),
    contained: [
      { ...contained, id: 'pat' },
      { resourceType: 'Specimen', id: 'spec', status: 'available', subject: { reference: '#pat' } },
    ],
    subject: { reference: '#pat' },
    specimen: [{ reference: '#spec' }],
  };
}

/** Parameters with a resource and nested parts (Parameters.parameter.part is a contentReference). */
export function parametersWithResources(): Json {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'resource', resource: diagnosticReport() },
      {
        name: 'options',
        part: [
          { name: 'dryRun', valueBoolean: true },
          { name: 'count', valueUnsignedInt: 0 },
        ],
      },
    ],
  };
}
