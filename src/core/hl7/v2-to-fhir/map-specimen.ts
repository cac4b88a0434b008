import type { Identifier, Specimen } from '@medplum/fhirtypes';
import type { Hl7Coded } from '../hl7-coded.ts';
import type { OrderIdentifiers } from './map-service-request.ts';
import type { MappingContext } from './mapping-context.ts';
import type { Located, OrderGroup } from './message-groups.ts';
import { identifierQuery, mapEi, V2_0203_SYSTEM } from './v2-identifiers.ts';

/** What a Specimen refers to. */
export interface SpecimenLinks {
  readonly patient: string;
  readonly request?: string;
}

/**
 * SPM → Specimen (V2-to-FHIR IG `SPM[Specimen]`): SPM-2.1/2.2 placer/filler specimen IDs →
 * identifier, SPM-4 → type, SPM-17 → collection.collected[x], SPM-18 → receivedTime. A conditional
 * create on the filler (else placer) specimen ID; an SPM without ID falls back to the order's
 * accession (see {@link mapOrderSpecimen}).
 */
export function mapSpm(
  ctx: MappingContext,
  spm: Located,
  ids: OrderIdentifiers | undefined,
  links: SpecimenLinks,
): string | undefined {
  const seg = spm.segment;
  const where = `SPM[${spm.sequence}]`;
  const id = (component: number): Identifier | undefined => {
    const parts = seg.field(2).subcomponents(component);
    const [value = '', namespaceId, universalId, universalIdType] = parts;
    return mapEi(
      {
        id: value,
        ...(namespaceId ? { namespaceId } : {}),
        ...(universalId ? { universalId } : {}),
        ...(universalIdType ? { universalIdType } : {}),
      },
      ctx.senderSystem,
    );
  };
  const typed = (i: Identifier | undefined, code: 'PLAC' | 'FILL') =>
    i ? [{ type: { coding: [{ system: V2_0203_SYSTEM, code }] }, ...i }] : [];
  const placer = id(1);
  const filler = id(2);
  const identifier = [...typed(placer, 'PLAC'), ...typed(filler, 'FILL')];
  const type = ctx.codeableConcept(coded(seg.field(4).components()), `${where}-4`);
  const start = ctx.dateTime(seg.get(17, 1), `${where}-17`);
  const end = ctx.dateTime(seg.get(17, 2), `${where}-17`);
  const received = ctx.dateTime(seg.get(18), `${where}-18`);
  const key = filler ?? placer;
  return addSpecimen(ctx, where, {
    identifier,
    key: key as { system: string; value: string } | undefined,
    ids,
    links,
    ...(type ? { type } : {}),
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(received ? { received } : {}),
  });
}

/**
 * A Specimen from OBR when no SPM was sent (pre-v2.5 messages; IG `OBR[Specimen]`): OBR-7/OBR-8
 * collection, OBR-14 received, OBR-15.1 source → type. Made only when one of them is present, keyed
 * on the order's filler (else placer) number as `accessionIdentifier`.
 */
export function mapOrderSpecimen(
  ctx: MappingContext,
  order: OrderGroup,
  ids: OrderIdentifiers,
  links: SpecimenLinks,
): string | undefined {
  if (!order.obr) return undefined;
  const seg = order.obr.segment;
  const where = `OBR[${order.obr.sequence}]`;
  const start = ctx.dateTime(seg.get(7), `${where}-7`);
  const end = ctx.dateTime(seg.get(8), `${where}-8`);
  const received = ctx.dateTime(seg.get(14), `${where}-14`);
  const type = ctx.codeableConcept(coded(seg.field(15).subcomponents(1)), `${where}-15`);
  if (!start && !received && !type) return undefined;
  return addSpecimen(ctx, where, {
    identifier: [],
    key: undefined,
    ids,
    links,
    ...(type ? { type } : {}),
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(received ? { received } : {}),
  });
}

interface SpecimenParts {
  readonly identifier: Identifier[];
  readonly key: { system: string; value: string } | undefined;
  readonly ids: OrderIdentifiers | undefined;
  readonly links: SpecimenLinks;
  readonly type?: Specimen['type'];
  readonly start?: string;
  readonly end?: string;
  readonly received?: string;
}

function addSpecimen(ctx: MappingContext, where: string, p: SpecimenParts): string | undefined {
  const accession = p.key ? undefined : p.ids?.key;
  if (!p.key && !accession) {
    ctx.warn(`${where} specimen has no ID and its order no number; no Specimen created`);
    return undefined;
  }
  const collection =
    p.start && p.end && p.end !== p.start
      ? { collectedPeriod: { start: p.start, end: p.end } }
      : p.start
        ? { collectedDateTime: p.start }
        : undefined;
  const specimen: Specimen = ctx.stamp(
    {
      resourceType: 'Specimen',
      ...(p.identifier.length ? { identifier: p.identifier } : {}),
      ...(accession ? { accessionIdentifier: { system: accession.system, value: accession.value } } : {}),
      ...(p.type ? { type: p.type } : {}),
      subject: { reference: p.links.patient },
      ...(p.received ? { receivedTime: p.received } : {}),
      ...(p.links.request ? { request: [{ reference: p.links.request }] } : {}),
      ...(collection ? { collection } : {}),
    },
    where,
  );
  const query = p.key
    ? identifierQuery(p.key)
    : identifierQuery(accession as { system: string; value: string }, 'accession');
  return ctx.bundle.add(specimen, { method: 'POST', ifNoneExist: query }).fullUrl;
}

/** A CWE given as parts (components of a field, or subcomponents of one component). */
function coded(parts: readonly string[]): Hl7Coded {
  const [code, display, system, altCode, altDisplay, altSystem, , , originalText] = parts.map((s) => s.trim());
  const out: Record<string, string> = {};
  const set = (k: string, v: string | undefined) => {
    if (v) out[k] = v;
  };
  set('code', code);
  set('display', display);
  set('system', system);
  set('altCode', altCode);
  set('altDisplay', altDisplay);
  set('altSystem', altSystem);
  set('originalText', originalText);
  return out;
}
