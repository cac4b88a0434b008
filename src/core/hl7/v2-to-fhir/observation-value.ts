import type { Attachment, CodeableConcept, Quantity, Range, Ratio } from '@medplum/fhirtypes';
import { parseCwe } from '../hl7-coded.ts';
import { parseHl7Date } from '../hl7-date-time.ts';
import { parseHl7Numeric } from '../hl7-numeric.ts';
import type { Hl7Repetition } from '../hl7-repetition.ts';
import { parseSn } from '../hl7-sn.ts';
import type { Hl7Observation } from '../read-obx.ts';
import { toFhirDateTime } from './local-date-time.ts';
import type { MappingContext } from './mapping-context.ts';
import { looksLikeUcum } from './ucum-syntax.ts';
import { UCUM_SYSTEM } from './v2-code-systems.ts';

/** `Observation.value[x]` (one of). */
export interface ObservationValueX {
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  valueDateTime?: string;
  valueTime?: string;
  valueRange?: Range;
  valueRatio?: Ratio;
}

/** Extension carrying an OBX-5 ED value: R4 Observation has no valueAttachment (R5 has). */
export const OBSERVATION_ATTACHMENT_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/observation-value-attachment';

/** OBX-5 mapped: one value, or one per repetition (IG `OBX[Observation-Component]`), or an attachment. */
export type MappedObxValue =
  | { readonly kind: 'none' }
  | { readonly kind: 'value'; readonly value: ObservationValueX }
  | { readonly kind: 'components'; readonly values: ObservationValueX[] }
  | { readonly kind: 'attachment'; readonly attachment: Attachment }
  | { readonly kind: 'error'; readonly detail: string };

/** The OBX-6 unit as the parts of a Quantity. */
export interface UnitParts {
  readonly unit?: string;
  readonly system?: string;
  readonly code?: string;
}

const TEXT_TYPES = new Set(['ST', 'TX', 'FT']);

/**
 * OBX-6 → Quantity unit parts (IG `CWE[Quantity]`). The unit goes into `code` with the UCUM system
 * when OBX-6.3 says UCUM or OBX-6.1 is a well-formed UCUM expression; otherwise it is kept as
 * `unit` text only, with a warning (non-UCUM units such as `giga.l-1` must not pose as UCUM).
 */
export function unitParts(ctx: MappingContext, obx: Hl7Observation, where: string): UnitParts {
  const code = obx.units.code?.trim() ?? '';
  const display = obx.units.display?.trim() ?? '';
  if (code === '' && display === '') return {};
  const unit = display || code;
  if (code !== '' && (obx.units.system?.toUpperCase() === 'UCUM' || looksLikeUcum(code))) {
    return { unit, system: UCUM_SYSTEM, code };
  }
  ctx.warn(`${where}-6 unit "${code || display}" is not UCUM; kept as unit text`);
  return { unit };
}

/**
 * Maps OBX-5 by OBX-2 (V2-to-FHIR IG `OBX[Observation]`): NM → valueQuantity; SN → valueQuantity
 * (with comparator), valueRange or valueRatio; ST/TX/FT → valueString (repetitions joined by line
 * breaks; `\.br\` already decoded to a line break by the parser); CWE/CE/CNE → valueCodeableConcept;
 * DT/DTM/TS → valueDateTime; TM → valueTime; NR → valueRange; ED → attachment. Other types are kept
 * as text with a warning. Values that do not match their type are an error (table 0357 code 102):
 * a wrong result must not be stored silently.
 */
export function mapObxValue(ctx: MappingContext, obx: Hl7Observation, where: string): MappedObxValue {
  const reps = obx.valueRepetitions.filter((r) => !r.isEmpty && !r.isNull);
  if (reps.length === 0) return { kind: 'none' };
  const type = obx.valueType.trim().toUpperCase();
  if (TEXT_TYPES.has(type) || type === '') {
    if (type === '') ctx.warn(`${where}-2 value type is empty; OBX-5 kept as text`);
    const text = reps.map((r) => r.text()).join('\n');
    return text.trim() === '' ? { kind: 'none' } : { kind: 'value', value: { valueString: text } };
  }
  if (type === 'ED') return edAttachment(reps[0] as Hl7Repetition);
  const units = unitParts(ctx, obx, where);
  const values: ObservationValueX[] = [];
  for (const rep of reps) {
    const v = oneValue(ctx, type, rep, units, where);
    if ('error' in v) return { kind: 'error', detail: v.error };
    values.push(v.value);
  }
  if (values.length === 1) return { kind: 'value', value: values[0] as ObservationValueX };
  return { kind: 'components', values };
}

type One = { value: ObservationValueX } | { error: string };

function oneValue(ctx: MappingContext, type: string, rep: Hl7Repetition, units: UnitParts, where: string): One {
  switch (type) {
    case 'NM': {
      const n = parseHl7Numeric(rep.text());
      return n.ok ? { value: { valueQuantity: quantity(n.value.decimal, units) } } : { error: n.error.message };
    }
    case 'SN':
      return structuredNumeric(ctx, rep, units, where);
    case 'CWE':
    case 'CE':
    case 'CNE':
    case 'CF': {
      const cc = ctx.codeableConcept(parseCwe(rep), `${where}-5`);
      return cc ? { value: { valueCodeableConcept: cc } } : { error: 'coded value has no code and no text' };
    }
    case 'DT': {
      const d = parseHl7Date(rep.component(1).trim());
      return d.ok ? { value: { valueDateTime: d.value } } : { error: d.error.message };
    }
    case 'DTM':
    case 'TS': {
      const raw = rep.component(1).trim();
      const d = toFhirDateTime(raw, ctx.timeZone);
      if (!d.ok) return { error: d.error.reason };
      if (d.value.localTime !== 'unique') ctx.dateTime(raw, `${where}-5`);
      return { value: { valueDateTime: d.value.fhir } };
    }
    case 'TM': {
      const m = /^(\d{2})(\d{2})?(\d{2})?(\.\d{1,4})?$/.exec(rep.component(1).trim());
      if (!m || Number(m[1]) > 23 || Number(m[2] ?? 0) > 59 || Number(m[3] ?? 0) > 59)
        return { error: 'not a valid TM (HH[MM[SS[.S]]])' };
      return { value: { valueTime: `${m[1]}:${m[2] ?? '00'}:${m[3] ?? '00'}${m[4] ?? ''}` } };
    }
    case 'NR': {
      const low = rep.component(1).trim();
      const high = rep.component(2).trim();
      const l = low ? parseHl7Numeric(low) : undefined;
      const h = high ? parseHl7Numeric(high) : undefined;
      if ((l && !l.ok) || (h && !h.ok) || (!l && !h)) return { error: 'not a valid NR (low^high)' };
      return {
        value: {
          valueRange: {
            ...(l?.ok ? { low: quantity(l.value.decimal, units) } : {}),
            ...(h?.ok ? { high: quantity(h.value.decimal, units) } : {}),
          },
        },
      };
    }
    default: {
      ctx.warn(`${where}-2 value type ${type} has no FHIR value mapping; OBX-5 kept as text`);
      const text = rep
        .components()
        .map((c) => c.trim())
        .filter((c) => c !== '')
        .join(' ');
      return text === '' ? { error: 'value is empty' } : { value: { valueString: text } };
    }
  }
}

/** SN (HL7 v2.5.1 ch. 2A): `<^5` → Quantity with comparator; `^10^-^20` → Range; `^1^:^128` → Ratio. */
function structuredNumeric(ctx: MappingContext, rep: Hl7Repetition, units: UnitParts, where: string): One {
  const r = parseSn(rep);
  if (!r.ok) return { error: r.error.message };
  const { comparator, num1, separator, num2 } = r.value;
  if (separator === undefined || num2 === undefined) {
    if (num1 === undefined) return { error: 'SN has no first number' };
    if (comparator === undefined || comparator === '=') return { value: { valueQuantity: quantity(num1, units) } };
    if (comparator === '<>') {
      ctx.warn(`${where}-5 SN comparator "<>" has no FHIR Quantity comparator; kept as text`);
      return { value: { valueString: `<>${num1}` } };
    }
    return { value: { valueQuantity: { ...quantity(num1, units), comparator } } };
  }
  if (comparator !== undefined && comparator !== '=') {
    ctx.warn(`${where}-5 SN "${rep.text()}" combines a comparator with ${separator}; kept as text`);
    return { value: { valueString: `${comparator}${num1 ?? ''}${separator}${num2}` } };
  }
  if (separator === '-') {
    return {
      value: {
        valueRange: { ...(num1 !== undefined ? { low: quantity(num1, units) } : {}), high: quantity(num2, units) },
      },
    };
  }
  if (separator === ':' || separator === '/') {
    if (num1 === undefined) return { error: 'SN ratio has no numerator' };
    return { value: { valueRatio: { numerator: quantity(num1, units), denominator: { value: Number(num2) } } } };
  }
  // `+` ("or more") and `.` (category) have no FHIR numeric form.
  return { value: { valueString: `${num1 ?? ''}${separator}${num2}` } };
}

function quantity(decimal: string, units: UnitParts): Quantity {
  return { value: Number(decimal), ...units };
}

/** ED (HL7 v2.5.1 ch. 2A): source^type^subtype^encoding^data → Attachment (Base64 data kept). */
function edAttachment(rep: Hl7Repetition): MappedObxValue {
  const [type, subtype, encoding, data] = [2, 3, 4, 5].map((i) => rep.component(i).trim()) as [
    string,
    string,
    string,
    string,
  ];
  const contentType = mediaType(type, subtype);
  const base64 =
    encoding.toUpperCase() === 'BASE64' && /^[A-Za-z0-9+/=\s]+$/.test(data) ? data.replace(/\s/g, '') : undefined;
  const title = [type, subtype].filter(Boolean).join('/');
  return {
    kind: 'attachment',
    attachment: {
      ...(contentType ? { contentType } : {}),
      ...(base64 ? { data: base64 } : {}),
      ...(title ? { title } : {}),
    },
  };
}

function mediaType(type: string, subtype: string): string | undefined {
  const s = subtype.toUpperCase();
  if (s === 'PDF') return 'application/pdf';
  if (s === 'JPEG' || s === 'JPG') return 'image/jpeg';
  if (s === 'PNG') return 'image/png';
  if (s === 'TIFF') return 'image/tiff';
  if (s === 'HTML') return 'text/html';
  if (s === 'XML') return 'application/xml';
  if (s === 'RTF') return 'application/rtf';
  if (type.toUpperCase() === 'TEXT' || s === 'PLAIN') return 'text/plain';
  return undefined;
}
