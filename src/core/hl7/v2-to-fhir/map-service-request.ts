import type { Annotation, Identifier, ServiceRequest } from '@medplum/fhirtypes';
import { parseCwe } from '../hl7-coded.ts';
import { parseEi } from '../read-obr.ts';
import type { MappingContext } from './mapping-context.ts';
import type { Located, OrderGroup } from './message-groups.ts';
import { identifierQuery, mapEi, V2_0203_SYSTEM } from './v2-identifiers.ts';
import { ORDER_CONTROL_STATUS, ORDER_STATUS } from './v2-tables.ts';

type SystemValue = { system: string; value: string };

/** Placer (PLAC) and filler (FILL) order numbers of an order group, and which one keys it. */
export interface OrderIdentifiers {
  readonly placer?: SystemValue;
  readonly filler?: SystemValue;
  /** The filler number when sent (it names the result), else the placer number. */
  readonly key: SystemValue;
  /** Where the segment group is, for warnings (`OBR[2]`). */
  readonly where: string;
}

/**
 * Placer and filler order numbers: OBR-2/OBR-3, falling back to ORC-2/ORC-3 (IG `ORC[ServiceRequest]`
 * and `OBR[ServiceRequest]`); undefined when the group has neither.
 */
export function orderIdentifiers(ctx: MappingContext, order: OrderGroup): OrderIdentifiers | undefined {
  const pick = (field: 2 | 3) => {
    for (const s of [order.obr, order.orc]) {
      const id = s ? mapEi(parseEi(s.segment.field(field)), ctx.senderSystem) : undefined;
      if (id) return id;
    }
    return undefined;
  };
  const placer = pick(2);
  const filler = pick(3);
  const key = filler ?? placer;
  if (!key) return undefined;
  return { ...(placer ? { placer } : {}), ...(filler ? { filler } : {}), key, where: groupName(order) };
}

/** `OBR[n]`, or `ORC[n]` for an order without OBR. */
export function groupName(order: OrderGroup): string {
  if (order.obr) return `OBR[${order.obr.sequence}]`;
  if (order.orc) return `ORC[${order.orc.sequence}]`;
  return 'order';
}

/** PLAC/FILL-typed Identifiers (table 0203) for a resource that carries the order numbers. */
export function orderIdentifierList(ids: OrderIdentifiers): Identifier[] {
  const typed = (v: SystemValue, code: 'PLAC' | 'FILL'): Identifier => ({
    type: { coding: [{ system: V2_0203_SYSTEM, code }] },
    system: v.system,
    value: v.value,
  });
  return [...(ids.placer ? [typed(ids.placer, 'PLAC')] : []), ...(ids.filler ? [typed(ids.filler, 'FILL')] : [])];
}

/** NTE segments → Annotations (NTE-3 repetitions joined by line breaks). */
export function notes(nte: readonly Located[]): Annotation[] {
  return nte
    .map((n) =>
      n.segment
        .repetitions(3)
        .map((r) => r.text())
        .join('\n'),
    )
    .filter((t) => t.trim() !== '')
    .map((text) => ({ text }));
}

/** The conditional query of an order's ServiceRequest: the placer number, else the filler number. */
export function serviceRequestQuery(ids: OrderIdentifiers): string {
  return identifierQuery(ids.placer ?? ids.key);
}

/** What a ServiceRequest refers to. */
export interface ServiceRequestLinks {
  readonly patient: string;
  readonly encounter?: string;
  readonly specimens?: readonly string[];
  readonly supportingInfo?: readonly string[];
}

/**
 * ORC/OBR → ServiceRequest. In an order message (`order`) it is the source: ORC-1 gives the status
 * (NW → active, CA/OC/DC → revoked, HD → on-hold; SC defers to ORC-5) and the request is a
 * conditional update on the placer number, so a cancellation updates the same resource. In a
 * result (`result`) it is a conditional create, so the original order is not overwritten; status
 * from ORC-5, else active.
 */
export function mapServiceRequest(
  ctx: MappingContext,
  order: OrderGroup,
  ids: OrderIdentifiers,
  links: ServiceRequestLinks,
  mode: 'order' | 'result',
): string {
  const where = ids.where;
  const control = order.orc?.segment.get(1).trim().toUpperCase() ?? '';
  const orderStatus = order.orc?.segment.get(5).trim().toUpperCase() ?? '';
  let status: ServiceRequest['status'] = ORDER_STATUS[orderStatus] ?? 'active';
  if (mode === 'order' && control !== '' && control !== 'SC') {
    status = ORDER_CONTROL_STATUS[control] ?? 'unknown';
    if (!ORDER_CONTROL_STATUS[control]) {
      ctx.warn(`${where} ORC-1 order control "${control}" has no ServiceRequest.status; sent as unknown`);
    }
  }
  const code = order.obr ? ctx.codeableConcept(parseCwe(order.obr.segment.field(4)), `${where}-4`) : undefined;
  const authoredOn = order.orc ? ctx.dateTime(order.orc.segment.get(9), `ORC[${order.orc.sequence}]-9`) : undefined;
  const note = notes(order.notes);
  const request: ServiceRequest = ctx.stamp(
    {
      resourceType: 'ServiceRequest',
      identifier: orderIdentifierList(ids),
      status,
      intent: 'order',
      ...(code ? { code } : {}),
      subject: { reference: links.patient },
      ...(links.encounter ? { encounter: { reference: links.encounter } } : {}),
      ...(authoredOn ? { authoredOn } : {}),
      ...(links.supportingInfo?.length
        ? { supportingInfo: links.supportingInfo.map((reference) => ({ reference })) }
        : {}),
      ...(links.specimens?.length ? { specimen: links.specimens.map((reference) => ({ reference })) } : {}),
      ...(note.length ? { note } : {}),
    },
    where,
  );
  const query = serviceRequestQuery(ids);
  return ctx.bundle.add(request, mode === 'result' ? { method: 'POST', ifNoneExist: query } : { method: 'PUT', query })
    .fullUrl;
}
