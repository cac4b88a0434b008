import { DEMO_IMAGING, demoPanel, LOCAL_IMAGING_SYSTEM, panelCoding, UCUM_SYSTEM } from './analysis-catalogue.ts';
import { DEMO_UTC_OFFSET_MS, type DemoEncounter } from './demo-history.ts';
import type { DemoOrder, DemoResult } from './demo-orders.ts';
import { DEMO_SOR_SYSTEM, type DemoOrganisation, REGION_ORGANISATIONS } from './region-catalogue.ts';

/** A FHIR resource as plain JSON with a fixed id. */
export type DemoResource = Record<string, unknown> & { resourceType: string; id: string };

/** Identifier system of demo tube barcodes: the ingest default, so ASTM results meet their Specimen. */
export const DEMO_SPECIMEN_SYSTEM = 'urn:dxhub:specimen-id';
/** Namespace of demo placer order numbers (the simulated EPR), as HL7 v2 EI-2 sends it. */
export const DEMO_PLACER_NAMESPACE = 'DEMO-EPJ';
/** Identifier system of demo placer order numbers: what the HL7 mapping makes of the namespace (`urn:dxhub:id:<ns>`). */
export const DEMO_PLACER_SYSTEM = `urn:dxhub:id:${DEMO_PLACER_NAMESPACE}`;
/** Tag on orders placed inside a minimum retest interval (for dashboards and rule tests). */
export const DEMO_TAG_SYSTEM = 'urn:dxhub:local:demo';

const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';

/** `ms` as an ISO date-time in Danish standard time (`…+01:00`). */
export function demoDateTime(ms: number): string {
  return `${new Date(ms + DEMO_UTC_OFFSET_MS).toISOString().slice(0, 19)}+01:00`;
}

const org = (code: string) => ({ reference: `Organization/${code}` });

/** Organization and Location resources of the region tree (a Location per site of a section). */
export function regionResources(): DemoResource[] {
  const out: DemoResource[] = REGION_ORGANISATIONS.map((u: DemoOrganisation) => ({
    resourceType: 'Organization',
    id: u.code,
    identifier: [{ system: DEMO_SOR_SYSTEM, value: u.code }],
    active: true,
    name: u.name,
    ...(u.parent ? { partOf: org(u.parent) } : {}),
    ...(u.site ? { address: [{ city: u.site, country: 'DK' }] } : {}),
  }));
  for (const u of REGION_ORGANISATIONS.filter((x) => x.site && x.level !== 'practice')) {
    out.push({
      resourceType: 'Location',
      id: `loc-${u.code}`,
      status: 'active',
      name: u.name,
      address: { city: u.site, country: 'DK' },
      managingOrganization: org(u.code),
    });
  }
  return out;
}

/** The Encounter of an emergency visit or admission; in progress when `asOf` falls inside it. */
export function encounterResource(e: DemoEncounter, asOf: number): DemoResource {
  const active = e.start <= asOf && asOf < e.end;
  return {
    resourceType: 'Encounter',
    id: e.id,
    status: active ? 'in-progress' : 'finished',
    class: e.inpatient
      ? { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' }
      : { system: ACT_CODE, code: 'EMER', display: 'emergency' },
    subject: { reference: `Patient/${e.patient.id}` },
    period: { start: demoDateTime(e.start), ...(active ? {} : { end: demoDateTime(e.end) }) },
    serviceProvider: org(e.serviceProvider),
  };
}

function interpretation(r: DemoResult, sex: 'male' | 'female') {
  const range = r.analysis.referenceRange?.find((x) => x.sex === undefined || x.sex === sex);
  let code = 'N';
  if (r.critical) code = r.analysis.critical?.high !== undefined && r.value > r.analysis.critical.high ? 'HH' : 'LL';
  else if (range?.high !== undefined && r.value > range.high) code = 'H';
  else if (range?.low !== undefined && r.value < range.low) code = 'L';
  return { code, range };
}

/** One Observation of a lab order; `first` gives the originally released version of a corrected result. */
export function observationResource(o: DemoOrder, i: number, first = false): DemoResource {
  const r = o.results[i]!;
  const a = r.analysis;
  const value = first && r.correctedFrom !== undefined ? r.correctedFrom : r.value;
  const { code, range } = interpretation({ ...r, value }, o.patient.sex);
  const q = (v: number) => ({ value: v, unit: a.unit, system: UCUM_SYSTEM, code: a.unit });
  return {
    resourceType: 'Observation',
    id: `${o.id}-o${i}`,
    status: r.correctedFrom !== undefined && !first ? 'corrected' : 'final',
    category: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }],
      },
    ],
    code: { coding: [{ system: a.system, code: a.code, display: a.display }] },
    subject: { reference: `Patient/${o.patient.id}` },
    ...(o.encounter ? { encounter: { reference: `Encounter/${o.encounter}` } } : {}),
    basedOn: [{ reference: `ServiceRequest/${o.id}-sr` }],
    specimen: { reference: `Specimen/${o.id}-sp` },
    effectiveDateTime: demoDateTime(o.collected),
    issued: new Date(o.issued).toISOString(),
    performer: [org(o.performer)],
    valueQuantity: q(value),
    interpretation: [{ coding: [{ system: INTERPRETATION, code }] }],
    ...(range
      ? {
          referenceRange: [
            {
              ...(range.low !== undefined ? { low: q(range.low) } : {}),
              ...(range.high !== undefined ? { high: q(range.high) } : {}),
            },
          ],
        }
      : {}),
  };
}

function orderCoding(o: DemoOrder) {
  if (o.kind === 'lab') return panelCoding(demoPanel(o.what));
  const p = DEMO_IMAGING.find((x) => x.code === o.what)!;
  return { system: LOCAL_IMAGING_SYSTEM, code: p.code, display: p.display };
}

/** The ServiceRequest of an order (completed: the history is resulted). */
export function serviceRequestResource(o: DemoOrder, status: 'active' | 'completed' = 'completed'): DemoResource {
  return {
    resourceType: 'ServiceRequest',
    id: `${o.id}-sr`,
    ...(o.overOrder ? { meta: { tag: [{ system: DEMO_TAG_SYSTEM, code: 'over-order' }] } } : {}),
    identifier: [{ system: DEMO_PLACER_SYSTEM, value: o.id }],
    status,
    intent: 'order',
    priority: o.priority,
    code: { coding: [orderCoding(o)] },
    subject: { reference: `Patient/${o.patient.id}` },
    ...(o.encounter ? { encounter: { reference: `Encounter/${o.encounter}` } } : {}),
    authoredOn: demoDateTime(o.authored),
    requester: org(o.requester),
    performer: [org(o.performer)],
  };
}

/** The Specimen of a lab order: the stage times collected and received. */
export function specimenResource(o: DemoOrder): DemoResource {
  return {
    resourceType: 'Specimen',
    id: `${o.id}-sp`,
    identifier: [{ system: DEMO_SPECIMEN_SYSTEM, value: o.id }],
    status: 'available',
    type: { text: 'Venøst blod / venous blood' },
    subject: { reference: `Patient/${o.patient.id}` },
    request: [{ reference: `ServiceRequest/${o.id}-sr` }],
    receivedTime: demoDateTime(o.received),
    collection: { collectedDateTime: demoDateTime(o.collected) },
  };
}

/** All resources of an order in write order; a corrected Observation appears twice (original, then corrected). */
export function orderResources(o: DemoOrder): DemoResource[] {
  const sr = serviceRequestResource(o);
  const code = { coding: [orderCoding(o)] };
  const subject = { reference: `Patient/${o.patient.id}` };
  const encounter = o.encounter ? { encounter: { reference: `Encounter/${o.encounter}` } } : {};
  if (o.kind === 'imaging') {
    const proc = DEMO_IMAGING.find((x) => x.code === o.what)!;
    return [
      sr,
      {
        resourceType: 'ImagingStudy',
        id: `${o.id}-is`,
        status: 'available',
        modality: [{ system: DICOM, code: proc.modality }],
        subject,
        ...encounter,
        started: demoDateTime(o.collected),
        basedOn: [{ reference: `ServiceRequest/${o.id}-sr` }],
        procedureCode: [code],
        description: proc.display,
      },
      {
        resourceType: 'DiagnosticReport',
        id: `${o.id}-dr`,
        status: 'final',
        category: [{ coding: [{ system: V2_0074, code: 'RAD' }] }],
        code,
        subject,
        ...encounter,
        basedOn: [{ reference: `ServiceRequest/${o.id}-sr` }],
        effectiveDateTime: demoDateTime(o.collected),
        issued: new Date(o.issued).toISOString(),
        performer: [org(o.performer)],
        imagingStudy: [{ reference: `ImagingStudy/${o.id}-is` }],
        conclusion: o.conclusion,
      },
    ];
  }
  const observations: DemoResource[] = [];
  o.results.forEach((r, i) => {
    if (r.correctedFrom !== undefined) observations.push(observationResource(o, i, true));
    observations.push(observationResource(o, i));
  });
  const corrected = o.results.some((r) => r.correctedFrom !== undefined);
  return [
    sr,
    specimenResource(o),
    ...observations,
    {
      resourceType: 'DiagnosticReport',
      id: `${o.id}-dr`,
      status: corrected ? 'corrected' : 'final',
      category: [{ coding: [{ system: V2_0074, code: 'LAB' }] }],
      code,
      subject,
      ...encounter,
      basedOn: [{ reference: `ServiceRequest/${o.id}-sr` }],
      effectiveDateTime: demoDateTime(o.collected),
      issued: new Date(o.issued).toISOString(),
      performer: [org(o.performer)],
      specimen: [{ reference: `Specimen/${o.id}-sp` }],
      result: o.results.map((_, i) => ({ reference: `Observation/${o.id}-o${i}` })),
    },
  ];
}
