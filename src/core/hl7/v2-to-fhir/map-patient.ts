import type { Address, ContactPoint, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import type { Hl7Repetition } from '../hl7-repetition.ts';
import type { Hl7Xad } from '../hl7-xad.ts';
import type { Hl7Xpn } from '../hl7-xpn.ts';
import { readPid } from '../read-pid.ts';
import type { MappingContext } from './mapping-context.ts';
import type { Located } from './message-groups.ts';
import { identifierQuery, type MappedCx, mapCx } from './v2-identifiers.ts';
import { ADMINISTRATIVE_GENDER } from './v2-tables.ts';
import { V2MappingAbort, v2Failure } from './v2-to-fhir-result.ts';

/** A Patient entry of the Bundle. */
export interface MappedPatient {
  /** The entry's fullUrl, used as `Reference.reference` by the other resources. */
  readonly fullUrl: string;
  readonly identifiers: Identifier[];
}

const BIRTH_TIME_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';
const NAME_USE: Readonly<Record<string, HumanName['use']>> = { L: 'official', D: 'usual', M: 'maiden', N: 'nickname' };
const PREFERRED_KIND: Readonly<Record<MappedCx['kind'], number>> = { cpr: 0, 'x-ecpr': 1, 'd-ecpr': 2, other: 3 };

/**
 * PID-3 → Identifiers (CPR/eCPR recognised), failing with table 0357 code 101 when PID-3 is empty:
 * a patient that cannot be identified must not be created.
 */
export function mapPidIdentifiers(ctx: MappingContext, pid: Located): MappedCx[] {
  const mapped: MappedCx[] = [];
  for (const cx of readPid(pid.segment).identifiers) {
    const m = mapCx(cx, ctx.senderSystem);
    if (!m) continue;
    if (m.warning) ctx.warn(m.warning);
    mapped.push(m);
  }
  if (mapped.length === 0) {
    throw new V2MappingAbort(
      v2Failure('missing-patient-identifier', { segment: 'PID', sequence: pid.sequence, field: 3 }),
    );
  }
  return mapped;
}

/**
 * PID → Patient (V2-to-FHIR IG `PID[Patient]`: identifier, name, birthDate with the birthTime
 * extension, gender, address, telecom, deceased). `create` adds it as a conditional create on its
 * best identifier (CPR before eCPR before MR), so a lab message never overwrites demographics;
 * `update` (ADT, the demographic source) as a conditional update on the same identifier.
 */
export function mapPatient(ctx: MappingContext, pid: Located, mode: 'create' | 'update'): MappedPatient {
  const where = `PID[${pid.sequence}]`;
  const ids = mapPidIdentifiers(ctx, pid);
  const p = readPid(pid.segment);
  const seg = pid.segment;
  const primary = [...ids].sort(
    (a, b) => PREFERRED_KIND[a.kind] - PREFERRED_KIND[b.kind] || mrFirst(a) - mrFirst(b),
  )[0] as MappedCx;
  const names = p.names.map(humanName).filter((n): n is HumanName => n !== undefined);
  const birth = ctx.dateTime(p.birthDate, `${where}-7`);
  const gender = p.sex.trim() ? ADMINISTRATIVE_GENDER[p.sex.trim().toUpperCase()] : undefined;
  if (p.sex.trim() && !gender) ctx.warn(`${where}-8 administrative sex "${p.sex}" is not in table 0001; left out`);
  const addresses = p.addresses.map(address).filter((a): a is Address => a !== undefined);
  const telecom = [
    ...seg.repetitions(13).map((r) => contactPoint(r, 'home')),
    ...seg.repetitions(14).map((r) => contactPoint(r, 'work')),
  ].filter((c): c is ContactPoint => c !== undefined);
  const deceasedAt = ctx.dateTime(seg.get(29), `${where}-29`);
  const deceasedFlag = seg.get(30).trim().toUpperCase();
  const patient: Patient = ctx.stamp(
    {
      resourceType: 'Patient',
      ...(birth?.includes('T') ? { extension: [{ url: BIRTH_TIME_EXTENSION, valueDateTime: birth }] } : {}),
      identifier: ids.map((m) => m.identifier),
      ...(names.length ? { name: names } : {}),
      ...(telecom.length ? { telecom } : {}),
      ...(gender ? { gender } : {}),
      ...(birth ? { birthDate: birth.slice(0, 10) } : {}),
      ...(deceasedAt
        ? { deceasedDateTime: deceasedAt }
        : deceasedFlag === 'Y' || deceasedFlag === 'N'
          ? { deceasedBoolean: deceasedFlag === 'Y' }
          : {}),
      ...(addresses.length ? { address: addresses } : {}),
    },
    where,
  );
  const query = identifierQuery(primary.identifier);
  const { fullUrl } = ctx.bundle.add(
    patient,
    mode === 'create' ? { method: 'POST', ifNoneExist: query } : { method: 'PUT', query },
  );
  return { fullUrl, identifiers: ids.map((m) => m.identifier) };
}

function mrFirst(m: MappedCx): number {
  return m.identifier.type?.coding?.[0]?.code === 'MR' ? 0 : 1;
}

function humanName(x: Hl7Xpn): HumanName | undefined {
  const given = [x.given, ...(x.middle ? x.middle.split(/\s+/) : [])].filter((g): g is string => !!g?.trim());
  const family = [x.familyPrefix, x.family].filter(Boolean).join(' ').trim();
  if (!family && given.length === 0) return undefined;
  const use = x.typeCode ? NAME_USE[x.typeCode.toUpperCase()] : undefined;
  return {
    ...(use ? { use } : {}),
    ...(family ? { family } : {}),
    ...(given.length ? { given } : {}),
    ...(x.prefix ? { prefix: [x.prefix] } : {}),
    ...(x.suffix ? { suffix: [x.suffix] } : {}),
  };
}

function address(x: Hl7Xad): Address | undefined {
  const line = [x.street, x.otherDesignation].map((s) => s?.trim()).filter((s): s is string => !!s);
  const t = x.addressType?.toUpperCase();
  const a: Address = {
    ...(t === 'H' ? { use: 'home' as const } : t === 'B' || t === 'O' ? { use: 'work' as const } : {}),
    ...(t === 'M' ? { type: 'postal' as const } : {}),
    ...(line.length ? { line } : {}),
    ...(x.city?.trim() ? { city: x.city.trim() } : {}),
    ...(x.countyCode?.trim() ? { district: x.countyCode.trim() } : {}),
    ...(x.state?.trim() ? { state: x.state.trim() } : {}),
    ...(x.postalCode?.trim() ? { postalCode: x.postalCode.trim() } : {}),
    ...(x.country?.trim() ? { country: x.country.trim() } : {}),
  };
  return Object.keys(a).some((k) => k !== 'use' && k !== 'type') ? a : undefined;
}

/** XTN (HL7 v2.5.1 ch. 2A) → ContactPoint: e-mail from XTN.4, numbers from XTN.12, XTN.1 or XTN.5–8. */
function contactPoint(rep: Hl7Repetition, use: 'home' | 'work'): ContactPoint | undefined {
  const equipment = rep.component(3).trim().toUpperCase();
  const useCode = rep.component(2).trim().toUpperCase();
  const email = equipment === 'INTERNET' || equipment === 'X.400' || useCode === 'NET';
  const number =
    rep.component(12).trim() ||
    rep.component(1).trim() ||
    [rep.component(5), rep.component(6), rep.component(7)]
      .map((s) => s.trim())
      .filter(Boolean)
      .join(' ') + (rep.component(8).trim() ? ` x${rep.component(8).trim()}` : '');
  const value = email ? rep.component(4).trim() || rep.component(1).trim() : number;
  if (!value) return undefined;
  const system = email ? 'email' : equipment === 'FX' ? 'fax' : equipment === 'BP' ? 'pager' : 'phone';
  return { system, value, use: equipment === 'CP' ? 'mobile' : use };
}
