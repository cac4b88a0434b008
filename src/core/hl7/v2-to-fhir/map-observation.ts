import type { CodeableConcept, Observation, ObservationComponent } from '@medplum/fhirtypes';
import { readObx } from '../read-obx.ts';
import { notes } from './map-service-request.ts';
import type { MappingContext } from './mapping-context.ts';
import type { ObservationGroup } from './message-groups.ts';
import { mapObxValue, OBSERVATION_ATTACHMENT_EXTENSION, unitParts } from './observation-value.ts';
import { mapReferenceRange } from './reference-range.ts';
import { identifierQuery } from './v2-identifiers.ts';
import { INTERPRETATION, INTERPRETATION_SYSTEM, OBSERVATION_ABSENT_REASON, OBSERVATION_STATUS } from './v2-tables.ts';
import { V2MappingAbort, v2Failure } from './v2-to-fhir-result.ts';

/**
 * System of the identifier dxhub gives every result Observation: `<order system>/<order number>/
 * <OBX-3 system>/<OBX-3 code>/<OBX-4>` (`%` and `/` in a part written as `%25` and `%2F`). A correction (OBX-11 = C) of the same
 * analyte in the same order yields the same value, so its conditional update hits the same resource.
 */
export const OBSERVATION_KEY_SYSTEM = 'http://dxhub.dk/fhir/NamingSystem/hl7v2-observation-key';

const V2_0078_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0078';
const LABORATORY: CodeableConcept = {
  coding: [
    {
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'laboratory',
      display: 'Laboratory',
    },
  ],
};

/** What an Observation refers to and falls back on. */
export interface ObservationLinks {
  readonly patient: string;
  readonly encounter?: string;
  readonly basedOn?: string;
  readonly specimen?: string;
  /** The order number the identifier is built from (filler, else placer). */
  readonly orderKey: { system: string; value: string };
  /** OBR-7, used when OBX-14 is empty (IG `OBR[Observation]`). */
  readonly effectiveFallback?: string;
  /** OBR-22 release time (`issued`, preferred over OBX-19 analysis time). */
  readonly issued?: string;
  /** Observation identifiers already used in this message, to keep duplicate OBX apart. */
  readonly usedKeys: Map<string, number>;
}

/**
 * OBX (+ NTE) → Observation (V2-to-FHIR IG `OBX[Observation]`), written as a conditional update on
 * {@link OBSERVATION_KEY_SYSTEM}. Status from OBX-11, value by OBX-2, OBX-6 units (UCUM when the
 * unit is UCUM), OBX-7 → referenceRange, OBX-8 → interpretation (v3 ObservationInterpretation),
 * OBX-14 → effective, OBR-22/OBX-19 → issued, OBX-23 → performer (display), NTE → note. Fails with
 * table 0357 code 101 for an empty OBX-3 and 102 for an OBX-5 that does not match OBX-2.
 */
export function mapObservation(ctx: MappingContext, group: ObservationGroup, links: ObservationLinks): string {
  const where = `OBX[${group.sequence}]`;
  const at = (field: number) => ({ segment: 'OBX', sequence: group.sequence, field });
  const obx = readObx(group.segment);
  const code = ctx.codeableConcept(obx.observationId, `${where}-3`);
  if (!code) throw new V2MappingAbort(v2Failure('missing-observation-code', at(3)));
  const value = mapObxValue(ctx, obx, where);
  if (value.kind === 'error') throw new V2MappingAbort(v2Failure('invalid-observation-value', at(5), value.detail));
  const statusCode = obx.resultStatus.trim().toUpperCase();
  const status = OBSERVATION_STATUS[statusCode];
  if (!status) {
    ctx.warn(
      statusCode === ''
        ? `${where}-11 result status is empty; status unknown`
        : `${where}-11 result status "${statusCode}" is not in table 0085; status unknown`,
    );
  }
  const units = unitParts(ctx, obx, where);
  const range = mapReferenceRange(obx.referenceRange, units);
  const interpretation = obx.abnormalFlags
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .map((f): CodeableConcept => {
      const display = INTERPRETATION[f.toUpperCase()];
      if (display) return { coding: [{ system: INTERPRETATION_SYSTEM, code: f.toUpperCase(), display }] };
      ctx.warn(`${where}-8 abnormal flag "${f}" has no v3 ObservationInterpretation code; kept in v2-0078`);
      return { coding: [{ system: V2_0078_SYSTEM, code: f }] };
    });
  const effective = ctx.dateTime(obx.observationDateTime, `${where}-14`) ?? links.effectiveFallback;
  const issued = links.issued ?? ctx.instant(obx.analysisDateTime, `${where}-19`);
  const performer = group.segment.get(23).trim();
  const note = notes(group.notes);
  const absent = value.kind === 'none' ? OBSERVATION_ABSENT_REASON[statusCode] : undefined;
  const identifierValue = uniqueKey(ctx, where, links, code, obx.subId);
  const identifier = { system: OBSERVATION_KEY_SYSTEM, value: identifierValue };
  const valueFields =
    value.kind === 'value'
      ? value.value
      : value.kind === 'components'
        ? { component: value.values.map((v): ObservationComponent => ({ code, ...v })) }
        : {};
  const attachment =
    value.kind === 'attachment' && Object.keys(value.attachment).length > 0
      ? { extension: [{ url: OBSERVATION_ATTACHMENT_EXTENSION, valueAttachment: value.attachment }] }
      : {};
  const observation: Observation = ctx.stamp(
    {
      resourceType: 'Observation',
      ...attachment,
      identifier: [identifier],
      ...(links.basedOn ? { basedOn: [{ reference: links.basedOn }] } : {}),
      status: status ?? 'unknown',
      category: [LABORATORY],
      code,
      subject: { reference: links.patient },
      ...(links.encounter ? { encounter: { reference: links.encounter } } : {}),
      ...(effective ? { effectiveDateTime: effective } : {}),
      ...(issued ? { issued } : {}),
      ...(performer ? { performer: [{ display: performer }] } : {}),
      ...('component' in valueFields ? {} : valueFields),
      ...(absent
        ? {
            dataAbsentReason: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: absent }],
            },
          }
        : {}),
      ...(interpretation.length ? { interpretation } : {}),
      ...(note.length ? { note } : {}),
      ...(links.specimen ? { specimen: { reference: links.specimen } } : {}),
      ...(range ? { referenceRange: [range] } : {}),
      ...('component' in valueFields ? valueFields : {}),
    },
    where,
  );
  return ctx.bundle.add(observation, { method: 'PUT', query: identifierQuery(identifier) }).fullUrl;
}

/**
 * The Observation key; a second OBX with the same order, code and sub-ID in one message (senders
 * that leave OBX-4 empty for repeated analytes) gets `#2`, `#3` … so both results are kept.
 */
function uniqueKey(
  ctx: MappingContext,
  where: string,
  links: ObservationLinks,
  code: CodeableConcept,
  subId: string,
): string {
  const coding = code.coding?.[0];
  const base = [
    links.orderKey.system,
    links.orderKey.value,
    coding?.system ?? '',
    coding?.code ?? code.text ?? '',
    subId.trim(),
  ]
    .map((p) => p.replace(/%/g, '%25').replace(/\//g, '%2F'))
    .join('/');
  const n = (links.usedKeys.get(base) ?? 0) + 1;
  links.usedKeys.set(base, n);
  if (n === 1) return base;
  ctx.warn(
    `${where} repeats the OBX-3 code and OBX-4 sub-ID of an earlier OBX of the same order; kept as occurrence ${n}`,
  );
  return `${base}#${n}`;
}
