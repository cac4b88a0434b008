import { parseReference, patientCompartmentParams } from '../core/fhir/index-rows.ts';
import { searchParams } from '../core/fhir/search-parameters.ts';

/** A FHIR Reference, as far as access control reads one. */
export interface Ref {
  readonly reference?: string;
  readonly identifier?: { readonly system?: string; readonly value?: string };
}

type Json = Record<string, unknown>;

/**
 * The ids of the patients a resource belongs to: its own id for a Patient, otherwise every
 * Patient reached through the parameters of the R4 Patient compartment definition
 * (compartmentdefinition-patient). Empty for resources outside the compartment (Organization,
 * Device …), which hold no patient data.
 */
export function patientsOf(resource: Json): string[] {
  const type = resource.resourceType as string;
  if (type === 'Patient') return typeof resource.id === 'string' ? [resource.id] : [];
  const out: string[] = [];
  const defs = searchParams(type);
  for (const code of patientCompartmentParams(type)) {
    const def = defs.get(code);
    if (!def) continue;
    for (const item of def.extract(resource as { resourceType: string })) {
      const ref = (item.v as { reference?: unknown }).reference;
      if (typeof ref !== 'string') continue;
      const p = parseReference(ref);
      if (p && p[0] === 'Patient' && !out.includes(p[1])) out.push(p[1]);
    }
  }
  return out;
}

/** True when the type is in the Patient compartment at all (its resources can carry patient data). */
export function inPatientCompartment(type: string): boolean {
  return type === 'Patient' || patientCompartmentParams(type).length > 0;
}

/**
 * Elements that name the organisation (or practitioner role) a resource comes from: who ordered,
 * performed, recorded or keeps it. A patient's block ("spærring") of data from one place matches
 * these; the place a resource comes from always keeps seeing it.
 */
const ORIGIN_ELEMENTS = [
  'requester',
  'performer',
  'serviceProvider',
  'managingOrganization',
  'custodian',
  'organization',
  'author',
  'recorder',
  'asserter',
  'resultsInterpreter',
] as const;

/** The references of {@link ORIGIN_ELEMENTS} (and `Specimen.collection.collector`). */
export function originRefs(resource: Json): Ref[] {
  const out: Ref[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (v && typeof v === 'object') {
      const r = v as Json;
      // ServiceRequest.performer is a Reference; Observation.performer too; Procedure.performer.actor.
      if ('reference' in r || 'identifier' in r) out.push(r as Ref);
      else if (r.actor) add(r.actor);
    }
  };
  for (const e of ORIGIN_ELEMENTS) add(resource[e]);
  add((resource.collection as Json | undefined)?.collector);
  return out;
}
