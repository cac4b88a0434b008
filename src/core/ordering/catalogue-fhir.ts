import type { Catalogue } from './catalogue.ts';
import type { CatalogueItem, OrderSet } from './types.ts';

type R = Record<string, unknown> & { resourceType: string; id: string };

const CANONICAL = 'urn:dxhub:ordering';
const da = (text: string) => [
  {
    url: 'http://hl7.org/fhir/StructureDefinition/translation',
    extension: [
      { url: 'lang', valueCode: 'da' },
      { url: 'content', valueString: text },
    ],
  },
];

/** ActivityDefinition (+ SpecimenDefinition and ObservationDefinition for analyses) of one item. */
export function itemResources(i: CatalogueItem): R[] {
  const code = { coding: [i.code, ...(i.aliases ?? [])], text: i.title.en };
  const out: R[] = [];
  const specimenId = `spec-${i.id}`;
  if (i.specimen) {
    out.push({
      resourceType: 'SpecimenDefinition',
      id: specimenId,
      typeCollected: { text: i.specimen.type.en },
      typeTested: [
        {
          preference: 'preferred',
          container: { description: `${i.specimen.container.en} / ${i.specimen.container.da}` },
        },
      ],
    });
  }
  if (i.kind === 'lab') {
    out.push({ resourceType: 'ObservationDefinition', id: `obsdef-${i.id}`, code });
  }
  out.push({
    resourceType: 'ActivityDefinition',
    id: `act-${i.id}`,
    url: `${CANONICAL}/ActivityDefinition/${i.id}`,
    name: i.id.replace(/[^A-Za-z0-9]/g, '_'),
    title: i.title.en,
    _title: { extension: da(i.title.da) },
    status: 'active',
    kind: 'ServiceRequest',
    code,
    priority: 'routine',
    description: `${i.title.en} (${i.title.da}). Performed by ${i.performer.en}; expected turnaround ${i.turnaroundHours} h; priorities ${i.priorities.join('/')}.${
      i.kind === 'imaging'
        ? ` Modality ${i.modality}; typical effective dose ${i.effectiveDoseMSv} mSv${i.contrast ? '; contrast' : ''}.`
        : ''
    } Source: ${i.source.label}.`,
    topic: [{ text: i.kind === 'lab' ? 'laboratory' : 'imaging' }],
    ...(i.specimen ? { specimenRequirement: [{ reference: `SpecimenDefinition/${specimenId}` }] } : {}),
    ...(i.kind === 'lab'
      ? { observationResultRequirement: [{ reference: `ObservationDefinition/obsdef-${i.id}` }] }
      : {}),
  });
  return out;
}

/** PlanDefinition of an order set: one action per test, each defined by its ActivityDefinition. */
export function orderSetResource(s: OrderSet): R {
  return {
    resourceType: 'PlanDefinition',
    id: `set-${s.id}`,
    url: `${CANONICAL}/PlanDefinition/${s.id}`,
    title: s.title.en,
    _title: { extension: da(s.title.da) },
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/plan-definition-type', code: 'order-set' }] },
    status: 'active',
    description: `Source: ${s.source.label}`,
    action: s.tests.map((t) => ({ title: t, definitionCanonical: `${CANONICAL}/ActivityDefinition/${t}` })),
  };
}

/** The whole catalogue as a FHIR collection Bundle. */
export function catalogueBundle(cat: Catalogue): Record<string, unknown> {
  const resources = [...cat.items.flatMap(itemResources), ...cat.orderSets.map(orderSetResource)];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((r) => ({ fullUrl: `${CANONICAL}/${r.resourceType}/${r.id}`, resource: r })),
  };
}
