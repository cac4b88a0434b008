import { mapDiagnosticReport } from './map-diagnostic-report.ts';
import { mapEncounter } from './map-encounter.ts';
import { mapObservation } from './map-observation.ts';
import { mapPatient } from './map-patient.ts';
import { mapServiceRequest, orderIdentifiers } from './map-service-request.ts';
import { mapOrderSpecimen, mapSpm } from './map-specimen.ts';
import type { MappingContext } from './mapping-context.ts';
import { groupMessage } from './message-groups.ts';
import { V2MappingAbort, v2Failure } from './v2-to-fhir-result.ts';

/**
 * ORU^R01 (V2-to-FHIR IG message map `ORU_R01`): per PATIENT_RESULT a Patient (conditional create)
 * and an Encounter when PV1 has a visit number; per ORDER_OBSERVATION a ServiceRequest (conditional
 * create on the placer number), Specimens (SPM, else from OBR-7/14/15), one Observation per OBX
 * (conditional update on the order/code/sub-ID key) and a DiagnosticReport (conditional update on
 * the filler number). Every OBX becomes an Observation; none is dropped.
 */
export function mapOruR01(ctx: MappingContext): void {
  const patients = groupMessage(ctx.message);
  if (!patients.some((p) => p.pid)) {
    throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'PID' }, 'ORU^R01 needs a PID'));
  }
  const usedKeys = new Map<string, number>();
  for (const group of patients) {
    if (!group.pid) {
      throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'PID' }, 'orders before the first PID'));
    }
    const patient = mapPatient(ctx, group.pid, 'create');
    const encounter = group.pv1
      ? mapEncounter(ctx, group.pv1, patient.fullUrl, { kind: 'from-dates' }, 'create')
      : undefined;
    const base = { patient: patient.fullUrl, ...(encounter ? { encounter } : {}), usedKeys };
    if (group.notes.length) ctx.warn(`NTE after PID[${group.pid.sequence}] not mapped (no Patient note element)`);
    const primary = patient.identifiers[0] as { system: string; value: string };
    for (const obs of group.observations) mapObservation(ctx, obs, { ...base, orderKey: primary });
    const orders = group.orders.filter((o) => o.obr);
    if (orders.length === 0) {
      throw new V2MappingAbort(
        v2Failure('missing-segment', { segment: 'OBR' }, `no OBR after PID[${group.pid.sequence}]`),
      );
    }
    for (const order of group.orders) {
      if (!order.obr) {
        ctx.warn(`ORC[${order.orc?.sequence}] without OBR in ORU^R01 not mapped`);
        continue;
      }
      const obr = order.obr;
      const ids = orderIdentifiers(ctx, order);
      if (!ids) {
        throw new V2MappingAbort(
          v2Failure('missing-order-number', { segment: 'OBR', sequence: obr.sequence, field: 3 }),
        );
      }
      const serviceRequest = mapServiceRequest(ctx, order, ids, base, 'result');
      const specimenLinks = { patient: patient.fullUrl, request: serviceRequest };
      const spmUrls = order.specimens.map((s) => mapSpm(ctx, s, ids, specimenLinks));
      const specimens = [...new Set(spmUrls.filter((u): u is string => u !== undefined))];
      if (order.specimens.length === 0) {
        const fromObr = mapOrderSpecimen(ctx, order, ids, specimenLinks);
        if (fromObr) specimens.push(fromObr);
      }
      const where = `OBR[${obr.sequence}]`;
      const effective = ctx.dateTime(obr.segment.get(7), `${where}-7`);
      const issued = ctx.instant(obr.segment.get(22), `${where}-22`);
      const links = {
        ...base,
        basedOn: serviceRequest,
        orderKey: ids.key,
        ...(effective ? { effectiveFallback: effective } : {}),
        ...(issued ? { issued } : {}),
      };
      const only = specimens.length === 1 ? specimens[0] : undefined;
      const results = order.observations.map((obs) =>
        mapObservation(ctx, obs, { ...links, ...(only ? { specimen: only } : {}) }),
      );
      order.specimens.forEach((spm, i) => {
        const specimen = spmUrls[i];
        for (const obs of spm.observations) {
          results.push(mapObservation(ctx, obs, { ...links, ...(specimen ? { specimen } : {}) }));
        }
      });
      mapDiagnosticReport(ctx, order, ids, {
        ...base,
        basedOn: serviceRequest,
        specimens,
        results: [...new Set(results)],
        ...(effective ? { effective } : {}),
        ...(issued ? { issued } : {}),
      });
    }
  }
}
