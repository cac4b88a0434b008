import type { Encounter, Organization, Reference } from '@medplum/fhirtypes';
import { parseCx } from '../hl7-cx.ts';
import { hdFromParts } from '../hl7-hd.ts';
import type { MappingContext } from './mapping-context.ts';
import type { Located } from './message-groups.ts';
import { identifierQuery, mapCx, V2_0203_SYSTEM } from './v2-identifiers.ts';
import { ACT_CODE_SYSTEM, ENCOUNTER_CLASS } from './v2-tables.ts';

/** How `Encounter.status` is chosen: fixed by the ADT event, or derived from PV1-44/PV1-45. */
export type EncounterStatusRule =
  | { readonly kind: 'fixed'; readonly status: Encounter['status'] }
  | { readonly kind: 'from-dates' };

/**
 * PV1 → Encounter (V2-to-FHIR IG `PV1[Encounter]`): PV1-19 visit number → identifier (type VN),
 * PV1-2 → class, PV1-3 → location, PV1-44/45 → period, PV1-3.4 or PV1-39 → serviceProvider (a
 * logical reference: dxhub keeps no Organization per facility yet). Without a visit number there is
 * nothing to make the Encounter idempotent on, so none is created (warning). `from-dates`: finished
 * when PV1-45 is set, in-progress when PV1-44 is set, else unknown.
 */
export function mapEncounter(
  ctx: MappingContext,
  pv1: Located,
  patientUrl: string,
  rule: EncounterStatusRule,
  mode: 'create' | 'update',
): string | undefined {
  const seg = pv1.segment;
  const where = `PV1[${pv1.sequence}]`;
  const visit = seg.repetitions(19)[0];
  const mapped = visit ? mapCx(parseCx(visit), ctx.senderSystem) : undefined;
  if (!mapped) {
    ctx.warn(`${where}-19 visit number is empty; no Encounter created`);
    return undefined;
  }
  const identifier = {
    type: { coding: [{ system: V2_0203_SYSTEM, code: 'VN' }] },
    system: mapped.identifier.system,
    value: mapped.identifier.value,
  };
  const patientClass = seg.get(2).trim().toUpperCase();
  const cls = ENCOUNTER_CLASS[patientClass];
  if (patientClass && !cls)
    ctx.warn(`${where}-2 patient class "${patientClass}" has no Encounter.class; sent as unknown`);
  const start = ctx.dateTime(seg.get(44), `${where}-44`);
  const end = ctx.dateTime(seg.get(45), `${where}-45`);
  const status: Encounter['status'] =
    rule.kind === 'fixed' ? rule.status : end ? 'finished' : start ? 'in-progress' : 'unknown';
  const location = [1, 2, 3]
    .map((i) => seg.get(3, i).trim())
    .filter(Boolean)
    .join(' ');
  const provider = serviceProvider(pv1);
  const encounter: Encounter = ctx.stamp(
    {
      resourceType: 'Encounter',
      identifier: [identifier],
      status,
      class: cls
        ? { system: ACT_CODE_SYSTEM, code: cls.code, display: cls.display }
        : { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK', display: 'unknown' },
      subject: { reference: patientUrl },
      ...(start || end ? { period: { ...(start ? { start } : {}), ...(end ? { end } : {}) } } : {}),
      ...(location ? { location: [{ location: { display: location } }] } : {}),
      ...(provider ? { serviceProvider: provider } : {}),
    },
    where,
  );
  const query = identifierQuery(identifier);
  return ctx.bundle.add(
    encounter,
    mode === 'create' ? { method: 'POST', ifNoneExist: query } : { method: 'PUT', query },
  ).fullUrl;
}

function serviceProvider(pv1: Located): Reference<Organization> | undefined {
  const facility = hdFromParts(pv1.segment.field(3).subcomponents(4));
  const servicing = pv1.segment.get(39).trim();
  const name = facility?.namespaceId ?? servicing;
  const oid = facility?.universalId && /^[0-2](\.\d+)+$/.test(facility.universalId) ? facility.universalId : undefined;
  if (!name && !oid) return undefined;
  return {
    ...(oid ? { identifier: { system: 'urn:ietf:rfc:3986', value: `urn:oid:${oid}` } } : {}),
    ...(name ? { display: name } : {}),
  };
}
