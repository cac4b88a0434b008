import type { Hl7Message } from '../hl7-message.ts';
import { type Hl7ParseOptions, parseHl7 } from '../parse-hl7.ts';
import { validateObxValues } from '../validate-obx-values.ts';
import { mapAdtMerge, mapAdtPatient } from './map-adt.ts';
import { mapOrderMessage } from './map-order-message.ts';
import { mapOruR01 } from './map-oru-r01.ts';
import { MappingContext, type V2ToFhirOptions } from './mapping-context.ts';
import { V2MappingAbort, type V2ToFhirResult, v2Failure } from './v2-to-fhir-result.ts';

type Route = 'oru-r01' | 'order' | 'adt-a01' | 'adt-a04' | 'adt-a08' | 'adt-a40';

/** Supported MSH-9.1 / MSH-9.2 pairs. */
const ROUTES: Readonly<Record<string, Readonly<Record<string, Route>>>> = {
  ORU: { R01: 'oru-r01' },
  OML: { O21: 'order' },
  ORM: { O01: 'order' },
  ADT: { A01: 'adt-a01', A04: 'adt-a04', A08: 'adt-a08', A40: 'adt-a40' },
};

/**
 * Maps a parsed HL7 v2 message to FHIR R4, following the HL7 V2-to-FHIR IG: ORU^R01, OML^O21,
 * ORM^O01 and ADT^A01/A04/A08 give a transaction Bundle of conditional creates and updates;
 * ADT^A40 gives the merge for the identity service. Never throws: an unmappable message is a
 * failure with its HL7 table 0357 code (200 unsupported type, 201 unsupported event, 100 missing
 * segment, 101 required field missing, 102 data type error).
 */
export function mapHl7ToFhir(message: Hl7Message, options: V2ToFhirOptions = {}): V2ToFhirResult {
  try {
    const type = message.messageType;
    const code = type.code.trim().toUpperCase();
    const trigger = type.trigger.trim().toUpperCase();
    const routes = ROUTES[code];
    if (!routes)
      return v2Failure('unsupported-message-type', { segment: 'MSH', sequence: 1, field: 9 }, `${code}^${trigger}`);
    const route = routes[trigger];
    if (!route) return v2Failure('unsupported-event', { segment: 'MSH', sequence: 1, field: 9 }, `${code}^${trigger}`);
    const ctx = new MappingContext(message, options);
    switch (route) {
      case 'adt-a40': {
        const merges = mapAdtMerge(ctx);
        const first = merges[0] as (typeof merges)[number];
        return {
          ok: true,
          kind: 'merge',
          messageType: ctx.messageType,
          controlId: ctx.controlId,
          surviving: first.surviving,
          replaced: first.replaced,
          merges,
          warnings: ctx.warnings,
        };
      }
      case 'adt-a01':
      case 'adt-a04':
      case 'adt-a08':
        mapAdtPatient(ctx, route === 'adt-a01' ? 'A01' : route === 'adt-a04' ? 'A04' : 'A08');
        break;
      case 'oru-r01':
      case 'order': {
        // The parser's own OBX-5 checks (NM, SN, DT, DTM/TS, XAD), so the mapper and the ACK agree.
        const bad = validateObxValues(message)[0];
        if (bad) {
          const at = { segment: 'OBX', field: 5, ...(bad.location ? { sequence: bad.location.sequence } : {}) };
          return v2Failure('invalid-observation-value', at, bad.message);
        }
        if (route === 'oru-r01') mapOruR01(ctx);
        else mapOrderMessage(ctx);
        break;
      }
    }
    return {
      ok: true,
      kind: 'bundle',
      bundle: ctx.bundle.build(),
      messageType: ctx.messageType,
      controlId: ctx.controlId,
      warnings: ctx.warnings,
    };
  } catch (e) {
    if (e instanceof V2MappingAbort) return e.failure;
    return v2Failure('internal-error', {}, e instanceof Error ? e.message : String(e));
  }
}

/**
 * Parses ER7 text or bytes and maps the message; a parse error becomes a failure with the
 * parser's table 0357 code and location.
 */
export function mapHl7TextToFhir(
  input: string | Uint8Array,
  options: V2ToFhirOptions & Hl7ParseOptions = {},
): V2ToFhirResult {
  const parsed = parseHl7(input, options);
  if (parsed.ok) return mapHl7ToFhir(parsed.value, options);
  const e = parsed.error;
  return {
    ok: false,
    code: e.condition,
    reason: e.code,
    message: e.message,
    ...(e.location ? { segment: e.location.segment, sequence: e.location.sequence } : {}),
    ...(e.location?.field !== undefined ? { field: e.location.field } : {}),
  };
}
