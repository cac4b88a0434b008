import { mapEncounter } from './map-encounter.ts';
import { mapObservation } from './map-observation.ts';
import { mapPatient } from './map-patient.ts';
import { mapServiceRequest, orderIdentifiers, serviceRequestQuery } from './map-service-request.ts';
import { mapSpm } from './map-specimen.ts';
import type { MappingContext } from './mapping-context.ts';
import { groupMessage } from './message-groups.ts';
import { V2MappingAbort, v2Failure } from './v2-to-fhir-result.ts';

/**
 * OML^O21 and ORM^O01 (V2-to-FHIR IG message maps `OML_O21`, `ORM_O01`): a Patient (conditional
 * create), an Encounter when PV1 has a visit number, and per ORDER a ServiceRequest written as a
 * conditional update on the placer number (ORC-1 NW → active, CA → revoked …), its Specimens (SPM)
 * and its ask-at-order-entry OBX as Observations in `supportingInfo`.
 */
export function mapOrderMessage(ctx: MappingContext): void {
  const patients = groupMessage(ctx.message);
  const usedKeys = new Map<string, number>();
  for (const group of patients) {
    if (!group.pid) {
      throw new V2MappingAbort(v2Failure('missing-segment', { segment: 'PID' }, `${ctx.messageType} needs a PID`));
    }
    const patient = mapPatient(ctx, group.pid, 'create');
    const encounter = group.pv1
      ? mapEncounter(ctx, group.pv1, patient.fullUrl, { kind: 'from-dates' }, 'create')
      : undefined;
    const base = { patient: patient.fullUrl, ...(encounter ? { encounter } : {}) };
    if (group.notes.length) ctx.warn(`NTE after PID[${group.pid.sequence}] not mapped (no Patient note element)`);
    if (group.observations.length) ctx.warn(`OBX before the first ORC/OBR not mapped`);
    if (group.orders.length === 0) {
      throw new V2MappingAbort(
        v2Failure('missing-segment', { segment: 'ORC' }, `no order after PID[${group.pid.sequence}]`),
      );
    }
    for (const order of group.orders) {
      const ids = orderIdentifiers(ctx, order);
      if (!ids) {
        const at = order.orc
          ? { segment: 'ORC', sequence: order.orc.sequence, field: 2 }
          : { segment: 'OBR', sequence: order.obr?.sequence ?? 1, field: 2 };
        throw new V2MappingAbort(v2Failure('missing-order-number', at));
      }
      const request = ctx.bundle.urlFor('ServiceRequest', serviceRequestQuery(ids));
      const spmUrls = order.specimens.map((s) => mapSpm(ctx, s, ids, { patient: patient.fullUrl, request }));
      const obsLinks = { ...base, orderKey: ids.key, usedKeys };
      const supportingInfo = order.observations.map((obs) => mapObservation(ctx, obs, obsLinks));
      order.specimens.forEach((spm, i) => {
        const specimen = spmUrls[i];
        for (const obs of spm.observations) {
          supportingInfo.push(mapObservation(ctx, obs, { ...obsLinks, ...(specimen ? { specimen } : {}) }));
        }
      });
      const specimens = [...new Set(spmUrls.filter((u): u is string => u !== undefined))];
      const added = mapServiceRequest(ctx, order, ids, { ...base, specimens, supportingInfo }, 'order');
      if (added !== request) ctx.warn(`${ids.where} repeats the order number of an earlier order; mapped once`);
    }
  }
}
