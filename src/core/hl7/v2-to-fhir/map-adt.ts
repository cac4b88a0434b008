import type { Encounter } from '@medplum/fhirtypes';
import { parseCx } from '../hl7-cx.ts';
import { mapEncounter } from './map-encounter.ts';
import { mapPatient, mapPidIdentifiers } from './map-patient.ts';
import type { MappingContext } from './mapping-context.ts';
import { mapCx } from './v2-identifiers.ts';
import { V2MappingAbort, type V2PatientMerge, v2Failure } from './v2-to-fhir-result.ts';

/**
 * ADT^A01/A04/A08 (V2-to-FHIR IG message map `ADT_A01`): the Patient as a conditional update (ADT
 * is the demographic source) and, when PV1 has a visit number, the Encounter. Status: A01 (admit)
 * in-progress; A04 (register an outpatient) arrived: the patient is present but not admitted, and
 * the registration says nothing about whether the visit has started; A08 (update) from PV1-44/45.
 */
export function mapAdtPatient(ctx: MappingContext, event: 'A01' | 'A04' | 'A08'): void {
  const pid = ctx.message.segment('PID');
  if (!pid) throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'PID' }, `ADT^${event} needs a PID`));
  const patient = mapPatient(ctx, { segment: pid, sequence: 1 }, 'update');
  const pv1 = ctx.message.segment('PV1');
  const status: Record<'A01' | 'A04', Encounter['status']> = { A01: 'in-progress', A04: 'arrived' };
  if (pv1) {
    mapEncounter(
      ctx,
      { segment: pv1, sequence: 1 },
      patient.fullUrl,
      event === 'A08' ? { kind: 'from-dates' } : { kind: 'fixed', status: status[event] },
      'update',
    );
  }
  const obx = ctx.message.all('OBX').length;
  if (obx > 0) ctx.warn(`${obx} OBX in ADT^${event} not mapped (patient observations are not taken from ADT)`);
}

/**
 * ADT^A40 (merge patient identifier list; structure ADT_A39: `{PID MRG}`): one merge per PID/MRG
 * pair, PID-3 surviving and MRG-1 replaced. The V2-to-FHIR IG has no A40 map; the merge itself is
 * done by the identity service, so no Bundle is built.
 */
export function mapAdtMerge(ctx: MappingContext): V2PatientMerge[] {
  const merges: V2PatientMerge[] = [];
  const counts = { PID: 0, MRG: 0 };
  let surviving: V2PatientMerge['surviving'] | undefined;
  for (const segment of ctx.message.segments) {
    if (segment.name === 'PID') {
      counts.PID++;
      if (surviving)
        throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'MRG' }, `after PID[${counts.PID - 1}]`));
      surviving = mapPidIdentifiers(ctx, { segment, sequence: counts.PID }).map((m) => m.identifier);
    } else if (segment.name === 'MRG') {
      counts.MRG++;
      if (!surviving)
        throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'PID' }, `before MRG[${counts.MRG}]`));
      const replaced = segment
        .repetitions(1)
        .map((r) => mapCx(parseCx(r), ctx.senderSystem))
        .filter((m) => m !== undefined)
        .map((m) => {
          if (m.warning) ctx.warn(m.warning.replace('PID-3', 'MRG-1'));
          return m.identifier;
        });
      if (replaced.length === 0) {
        throw new V2MappingAbort(
          v2Failure('missing-prior-identifier', { segment: 'MRG', sequence: counts.MRG, field: 1 }),
        );
      }
      merges.push({ surviving, replaced });
      surviving = undefined;
    }
  }
  if (surviving) throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'MRG' }, `after PID[${counts.PID}]`));
  if (merges.length === 0)
    throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'PID' }, 'ADT^A40 needs PID and MRG'));
  return merges;
}
