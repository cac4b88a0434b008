import { CPR_SYSTEM } from '../core/identity/identifier-systems.ts';
import type { Resource } from '../store/repository.ts';
import { DEMO_ANALYSES, DEMO_PATIENTS, type DemoAnalysis, type DemoPatient } from './demo-clinical-data.ts';

const NPU = 'urn:oid:1.2.208.176.2.1';
const UCUM = 'http://unitsofmeasure.org';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** HL7 v2 table 0074 (diagnostic service section), the DiagnosticReport.category of FHIR R4's examples. */
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const DICOM_DCM = 'http://dicom.nema.org/resources/ontology/DCM';
/** A clearly local system for the demo imaging procedure (no SKS code verified for it). */
const LOCAL_PROCEDURE = 'urn:dxhub:local:procedure';
const DEMO_MESSAGE = 'urn:dxhub:demo:source-message';

const ref = (reference: string) => ({ reference });
const day = (today: Date, daysAgo: number, hour: number) =>
  new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - daysAgo, hour)).toISOString();

/** HL7 v3 interpretation of a value: critical (LL/HH) when a critical limit is crossed, else L/H/N. */
function interpretation(a: DemoAnalysis, v: number): string {
  if (a.critical && v <= a.critical.low) return 'LL';
  if (a.critical && v >= a.critical.high) return 'HH';
  if (v < a.reference.low) return 'L';
  if (v > a.reference.high) return 'H';
  return 'N';
}

function analysisCode(a: DemoAnalysis) {
  return { coding: [{ system: NPU, code: a.npu, display: a.display }], text: a.display };
}

function patientResources(p: DemoPatient, n: number): Resource[] {
  return [
    {
      resourceType: 'Patient',
      id: p.id,
      identifier: [{ system: CPR_SYSTEM, value: p.cpr }],
      name: [{ family: p.family, given: [p.given], text: `${p.given} ${p.family} (demo)` }],
      gender: p.gender,
      birthDate: p.birthDate,
    },
    {
      resourceType: 'Encounter',
      id: `demo-encounter-${n}`,
      status: 'in-progress',
      class: {
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code: 'IMP',
        display: 'inpatient encounter',
      },
      subject: ref(`Patient/${p.id}`),
      serviceProvider: ref(`Organization/${p.admittedTo}`),
    },
  ];
}

/** One sampling: the order, its Observations, the report and the Provenance naming the sending lab. */
function samplingResources(p: DemoPatient, s: DemoPatient['samplings'][number], today: Date): Resource[] {
  const key = `${p.id}-${s.lab}-${s.daysAgo}`;
  const taken = day(today, s.daysAgo, 7);
  const issued = day(today, s.daysAgo, 9);
  const subject = ref(`Patient/${p.id}`);
  const order = `ServiceRequest/sr-${key}`;
  const observations: Resource[] = Object.entries(s.values).map(([k, v]) => {
    const a = DEMO_ANALYSES[k as keyof typeof DEMO_ANALYSES];
    const flag = interpretation(a, v);
    return {
      resourceType: 'Observation',
      id: `obs-${key}-${k}`,
      status: 'final',
      category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory' }] }],
      code: analysisCode(a),
      subject,
      basedOn: [ref(order)],
      effectiveDateTime: taken,
      issued,
      performer: [ref(`Organization/${s.lab}`)],
      valueQuantity: { value: v, unit: a.unit, system: UCUM, code: a.unit },
      interpretation: [{ coding: [{ system: INTERPRETATION, code: flag }] }],
      referenceRange: [
        {
          low: { value: a.reference.low, unit: a.unit, system: UCUM, code: a.unit },
          high: { value: a.reference.high, unit: a.unit, system: UCUM, code: a.unit },
        },
      ],
    };
  });
  const results = observations.map((o) => ref(`Observation/${o.id}`));
  return [
    {
      resourceType: 'ServiceRequest',
      id: `sr-${key}`,
      status: 'completed',
      intent: 'order',
      code: {
        text: Object.keys(s.values)
          .map((k) => DEMO_ANALYSES[k as keyof typeof DEMO_ANALYSES].npu)
          .join(', '),
      },
      subject,
      authoredOn: day(today, s.daysAgo, 6),
      requester: ref(`Organization/${p.admittedTo}`),
      performer: [ref(`Organization/${s.lab}`)],
    },
    ...observations,
    {
      resourceType: 'DiagnosticReport',
      id: `dr-${key}`,
      status: 'final',
      category: [{ coding: [{ system: V2_0074, code: 'LAB' }] }],
      code: { text: 'Laboratory report (demo)' },
      subject,
      basedOn: [ref(order)],
      effectiveDateTime: taken,
      issued,
      performer: [ref(`Organization/${s.lab}`)],
      result: results,
    },
    {
      resourceType: 'Provenance',
      id: `prov-${key}`,
      target: [ref(`DiagnosticReport/dr-${key}`), ...results],
      recorded: issued,
      agent: [
        { who: { ...ref(`Organization/${s.lab}`), display: s.lab } },
        { who: { display: `LIMS ${s.lab} (demo)` } },
      ],
      entity: [{ role: 'source', what: { identifier: { system: DEMO_MESSAGE, value: `msg-${key}` } } }],
    },
  ];
}

function imagingResources(p: DemoPatient, today: Date): Resource[] {
  if (!p.imaging) return [];
  const started = day(today, p.imaging.daysAgo, 11);
  const subject = ref(`Patient/${p.id}`);
  const code = { coding: [{ system: LOCAL_PROCEDURE, code: 'ct-thorax', display: p.imaging.description }] };
  return [
    {
      resourceType: 'ServiceRequest',
      id: `sr-${p.id}-ct`,
      status: 'completed',
      intent: 'order',
      code,
      subject,
      authoredOn: day(today, p.imaging.daysAgo + 1, 10),
      requester: ref(`Organization/${p.admittedTo}`),
      performer: [ref('Organization/demo-ouh-rad-ct')],
    },
    {
      resourceType: 'ImagingStudy',
      id: `img-${p.id}-ct`,
      status: 'available',
      subject,
      basedOn: [ref(`ServiceRequest/sr-${p.id}-ct`)],
      started,
      modality: [{ system: DICOM_DCM, code: 'CT' }],
      numberOfSeries: 2,
      numberOfInstances: 412,
      description: p.imaging.description,
    },
    {
      resourceType: 'DiagnosticReport',
      id: `dr-${p.id}-ct`,
      status: 'final',
      category: [{ coding: [{ system: V2_0074, code: 'RAD' }] }],
      code,
      subject,
      basedOn: [ref(`ServiceRequest/sr-${p.id}-ct`)],
      effectiveDateTime: started,
      issued: day(today, p.imaging.daysAgo, 15),
      performer: [ref('Organization/demo-ouh-rad')],
      imagingStudy: [ref(`ImagingStudy/img-${p.id}-ct`)],
      conclusion: p.imaging.conclusion,
    },
  ];
}

function openOrderResources(p: DemoPatient, today: Date): Resource[] {
  return p.openOrders.map((o, i) => ({
    resourceType: 'ServiceRequest',
    id: `sr-${p.id}-open-${i + 1}`,
    status: o.status,
    intent: 'order',
    code: analysisCode(DEMO_ANALYSES[o.analysis]),
    subject: ref(`Patient/${p.id}`),
    authoredOn: day(today, 0, 6),
    requester: ref(`Organization/${p.admittedTo}`),
    performer: [ref(`Organization/${o.lab}`)],
  }));
}

/**
 * The demo patients with their admissions, lab results from two hospitals' labs over two months
 * (reports, orders, Provenance), a CT study with its report, and open orders. Dates are relative to
 * `today`, so the demo stays recent; ids are fixed, so seeding again on the same day changes nothing.
 */
export function demoClinicalResources(today: Date): Resource[] {
  return DEMO_PATIENTS.flatMap((p, i) => [
    ...patientResources(p, i + 1),
    ...p.samplings.flatMap((s) => samplingResources(p, s, today)),
    ...imagingResources(p, today),
    ...openOrderResources(p, today),
  ]);
}
