import type { Bundle, CodeableConcept, Coding, Observation, Quantity, Resource } from '@medplum/fhirtypes';
import { UCUM_SYSTEM } from '../hl7/v2-to-fhir/index.ts';
import type { ConceptMapIndex, MappedCoding } from './concept-map-index.ts';
import { convertUcum, type UcumConversion } from './ucum-convert.ts';

/** Prefix of the systems the HL7 v2 mapper gives sender-local codes (`urn:dxhub:local:<MSH-3>:<MSH-4>`). */
export const LOCAL_SYSTEM_PREFIX = 'urn:dxhub:local:';

/** Extension on a Coding added from a ConceptMap: the map (`url|version`) it came from. */
export const MAPPED_BY_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/coding-mapped-by';

/** Extension on a Quantity converted to a ConceptMap's target unit: the quantity as the sender reported it. */
export const ORIGINAL_QUANTITY_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/original-quantity';

/** A local code no ConceptMap speaks of, and the first resource of the Bundle that carries it. */
export interface UnmappedLocalCode {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
  readonly resourceType: string;
  /** The fullUrl of that resource's entry (`urn:uuid:…`). */
  readonly fullUrl: string;
}

/** The Bundle with target codes added, and what was done. */
export interface ConceptMapResult {
  readonly bundle: Bundle;
  readonly unmapped: readonly UnmappedLocalCode[];
  readonly codingsAdded: number;
  readonly quantitiesConverted: number;
  /** The ConceptMaps (`url|version`) that added a code, sorted. */
  readonly conceptMaps: readonly string[];
  /** Findings such as a unit that could not be converted. */
  readonly warnings: readonly string[];
}

/** The unit converter (injectable for tests); {@link convertUcum} by default. */
export type UnitConverter = (value: number, from: string, to: string) => UcumConversion;

const CODED_TYPES = new Set(['Observation', 'ServiceRequest', 'DiagnosticReport']);
/** Types whose unmapped local codes become a mapping task (issue 5 item 6: results and orders). */
const TASK_TYPES = new Set(['Observation', 'ServiceRequest']);

/**
 * Adds the target codings that the ConceptMaps give the sender-local codes of `Observation.code`
 * (and its components), `ServiceRequest.code` and `DiagnosticReport.code`. The local coding stays
 * first (the Observation's identifier is built from it) and the targets follow it. When a target
 * names a UCUM unit, the Observation's quantities (value, components, reference ranges) are converted
 * to it — all or none, so value and range never disagree; a quantity without a UCUM code or with
 * an incommensurable unit keeps its original unit, with a warning. Local codes no ConceptMap speaks
 * of are listed in `unmapped`: the data is never dropped. Pure: returns a new Bundle.
 */
export function applyConceptMaps(
  bundle: Bundle,
  index: ConceptMapIndex,
  convert: UnitConverter = convertUcum,
): ConceptMapResult {
  return applyConceptMapsInPlace(structuredClone(bundle), index, convert);
}

/**
 * {@link applyConceptMaps} on the caller's Bundle, changed in place and returned as `bundle`: for a
 * caller that owns a freshly mapped Bundle (the HL7 processor), where the copy cost a tenth of the
 * processing time.
 */
export function applyConceptMapsInPlace(
  out: Bundle,
  index: ConceptMapIndex,
  convert: UnitConverter = convertUcum,
): ConceptMapResult {
  const unmapped = new Map<string, UnmappedLocalCode>();
  const used = new Set<string>();
  const warnings: string[] = [];
  let codingsAdded = 0;
  let quantitiesConverted = 0;
  for (const entry of out.entry ?? []) {
    const resource = entry.resource as (Resource & { code?: CodeableConcept }) | undefined;
    if (!resource || !CODED_TYPES.has(resource.resourceType)) continue;
    const concepts: CodeableConcept[] = [];
    if (resource.code) concepts.push(resource.code);
    if (resource.resourceType === 'Observation') {
      for (const c of (resource as Observation).component ?? []) if (c.code !== resource.code) concepts.push(c.code);
    }
    let unit: string | undefined;
    for (const concept of concepts) {
      const r = mapConcept(concept, index);
      codingsAdded += r.added;
      for (const m of r.conceptMaps) used.add(m);
      unit ??= r.unit;
      if (!TASK_TYPES.has(resource.resourceType) || !entry.fullUrl) continue;
      for (const c of r.unmapped) {
        const key = `${c.system}|${c.code}`;
        if (unmapped.has(key)) continue;
        unmapped.set(key, {
          system: c.system!,
          code: c.code!,
          ...(c.display ? { display: c.display } : {}),
          resourceType: resource.resourceType,
          fullUrl: entry.fullUrl,
        });
      }
    }
    if (unit && resource.resourceType === 'Observation') {
      const r = convertObservation(resource as Observation, unit, convert);
      if (r.ok) quantitiesConverted += r.converted;
      else warnings.push(`${entry.fullUrl ?? 'Observation'}: quantities kept in their original unit: ${r.reason}`);
    }
  }
  return {
    bundle: out,
    unmapped: [...unmapped.values()],
    codingsAdded,
    quantitiesConverted,
    conceptMaps: [...used].sort(),
    warnings,
  };
}

/** Adds the targets of the concept's local codings (in place); returns what it did and what it could not. */
function mapConcept(
  concept: CodeableConcept,
  index: ConceptMapIndex,
): { added: number; unit: string | undefined; conceptMaps: string[]; unmapped: Coding[] } {
  const codings = concept.coding ?? [];
  const added: Coding[] = [];
  const unmapped: Coding[] = [];
  const conceptMaps: string[] = [];
  let unit: string | undefined;
  for (const coding of codings) {
    if (!coding.system?.startsWith(LOCAL_SYSTEM_PREFIX) || !coding.code) continue;
    const mapping = index.lookup(coding.system, coding.code);
    if (!mapping) {
      unmapped.push(coding);
      continue;
    }
    for (const t of mapping.targets) {
      unit ??= t.unit;
      if ([...codings, ...added].some((c) => c.system === t.system && c.code === t.code)) continue;
      added.push(targetCoding(t));
      if (!conceptMaps.includes(t.conceptMap)) conceptMaps.push(t.conceptMap);
    }
  }
  if (added.length > 0) concept.coding = [...codings, ...added];
  return { added: added.length, unit, conceptMaps, unmapped };
}

function targetCoding(t: MappedCoding): Coding {
  return {
    extension: [{ url: MAPPED_BY_EXTENSION, valueUri: t.conceptMap }],
    system: t.system,
    code: t.code,
    ...(t.display ? { display: t.display } : {}),
  };
}

/** Every quantity of an Observation that carries a value and a unit of measure. */
function quantitiesOf(o: Observation): Quantity[] {
  const qs: (Quantity | undefined)[] = [o.valueQuantity, o.valueRange?.low, o.valueRange?.high];
  for (const r of o.referenceRange ?? []) qs.push(r.low, r.high);
  for (const c of o.component ?? []) {
    qs.push(c.valueQuantity, c.valueRange?.low, c.valueRange?.high);
    for (const r of c.referenceRange ?? []) qs.push(r.low, r.high);
  }
  return qs.filter((q): q is Quantity => q !== undefined && q.value !== undefined);
}

/** Converts all quantities of `o` to `unit` (in place) or none of them. */
function convertObservation(
  o: Observation,
  unit: string,
  convert: UnitConverter,
): { ok: true; converted: number } | { ok: false; reason: string } {
  const quantities = quantitiesOf(o);
  const results: number[] = [];
  for (const q of quantities) {
    if (q.system !== UCUM_SYSTEM || !q.code) {
      return { ok: false, reason: `unit "${q.unit ?? q.code ?? ''}" is not a UCUM code, so it cannot become ${unit}` };
    }
    const r = convert(q.value as number, q.code, unit);
    if (!r.ok) return { ok: false, reason: `${q.code} → ${unit}: ${r.reason}` };
    results.push(r.value);
  }
  let converted = 0;
  quantities.forEach((q, i) => {
    if (q.code === unit) return;
    const original: Quantity = { ...q };
    delete original.extension;
    q.extension = [...(q.extension ?? []), { url: ORIGINAL_QUANTITY_EXTENSION, valueQuantity: original }];
    q.value = results[i];
    q.unit = unit;
    q.code = unit;
    converted++;
  });
  return { ok: true, converted };
}
