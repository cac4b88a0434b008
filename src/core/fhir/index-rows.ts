import { MAX_TIME, MIN_TIME, parseDateRange } from './dates.ts';
import { readDefinition } from './definitions.ts';
import type { TypedItem } from './fhirpath-lite.ts';
import { normaliseIdentifierValue } from './identifier-normalisation.ts';
import { type SearchParamDef, searchParams } from './search-parameters.ts';

/**
 * The search index rows of one resource, one array per index table. Parameter codes are the
 * SearchParameter codes; derived rows use `<code>:text` (display text of tokens, FHIR R4
 * §3.1.1.5.6 `:text`) and `<code>:identifier` (Reference.identifier, §3.1.1.5.11). Absent parts
 * are stored as '' so that every column can be part of a primary key.
 */
export interface IndexRows {
  token: [param: string, system: string, code: string][];
  string: [param: string, norm: string, raw: string][];
  date: [param: string, lo: number, hi: number][];
  number: [param: string, value: number][];
  quantity: [param: string, system: string, code: string, lo: number, hi: number][];
  reference: [param: string, type: string, id: string][];
  composite: [
    param: string,
    aSystem: string,
    aCode: string,
    bSystem: string,
    bCode: string,
    bLo: number,
    bHi: number,
    bText: string,
  ][];
}

/** Longest string kept in the string index (characters); longer values are cut before indexing. */
export const MAX_INDEXED_STRING = 256;

/** Lower-case, accents removed: the default (starts-with, case- and accent-insensitive) string match. */
export function normaliseString(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .slice(0, MAX_INDEXED_STRING);
}

type Rec = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Token parts of a typed value: [system, code] pairs and display texts. */
export function tokenParts(item: TypedItem, out: [string, string][], texts: string[]): void {
  const v = item.v;
  switch (item.t) {
    case 'Coding': {
      const c = v as Rec;
      if (typeof c.code === 'string') out.push([str(c.system), c.code]);
      if (typeof c.display === 'string') texts.push(c.display);
      return;
    }
    case 'CodeableConcept': {
      const cc = v as Rec;
      if (Array.isArray(cc.coding)) {
        for (const c of cc.coding as Rec[]) tokenParts({ v: c, t: 'Coding', ctx: 'Coding' }, out, texts);
      }
      if (typeof cc.text === 'string') texts.push(cc.text);
      return;
    }
    case 'Identifier': {
      const id = v as Rec;
      if (typeof id.value === 'string') out.push([str(id.system), normaliseIdentifierValue(str(id.system), id.value)]);
      const type = id.type as Rec | undefined;
      if (typeof type?.text === 'string') texts.push(type.text);
      return;
    }
    case 'ContactPoint': {
      const cp = v as Rec;
      if (typeof cp.value === 'string') out.push([str(cp.system), cp.value]);
      return;
    }
    case 'boolean':
      if (typeof v === 'boolean') out.push(['', String(v)]);
      return;
    default:
      if (typeof v === 'string') out.push(['', v]);
      else if (typeof v === 'number') out.push(['', String(v)]);
  }
}

const NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

/** Strings of a typed value (HumanName and Address parts, plain strings). */
export function stringParts(item: TypedItem, out: string[]): void {
  const v = item.v;
  if (typeof v === 'string') {
    out.push(v);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  const parts = item.t === 'HumanName' ? NAME_PARTS : item.t === 'Address' ? ADDRESS_PARTS : undefined;
  if (!parts) {
    const text = (v as Rec).text ?? (v as Rec).display;
    if (typeof text === 'string') out.push(text);
    return;
  }
  for (const p of parts) {
    const x = (v as Rec)[p];
    if (typeof x === 'string') out.push(x);
    else if (Array.isArray(x)) for (const s of x) if (typeof s === 'string') out.push(s);
  }
}

/** Date ranges of a typed value (date, dateTime, instant, Period, Timing). */
export function dateParts(item: TypedItem, out: [number, number][]): void {
  const v = item.v;
  if (typeof v === 'string') {
    const r = parseDateRange(v);
    if (r) out.push([r.lo, r.hi]);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  if (item.t === 'Period') {
    const p = v as Rec;
    const s = typeof p.start === 'string' ? parseDateRange(p.start) : undefined;
    const e = typeof p.end === 'string' ? parseDateRange(p.end) : undefined;
    if (s || e) out.push([s?.lo ?? MIN_TIME, e?.hi ?? MAX_TIME]);
  } else if (item.t === 'Timing') {
    const events = (v as Rec).event;
    if (Array.isArray(events)) for (const ev of events) dateParts({ v: ev, t: 'dateTime', ctx: 'dateTime' }, out);
  }
}

/** Quantity parts: [system, code-or-unit, low, high] (a Range gives its bounds). */
export function quantityParts(item: TypedItem, out: [string, string, number, number][]): void {
  const v = item.v as Rec;
  if (typeof v !== 'object' || v === null) return;
  if (item.t === 'Range') {
    const low = v.low as Rec | undefined;
    const high = v.high as Rec | undefined;
    const lo = typeof low?.value === 'number' ? low.value : -Infinity;
    const hi = typeof high?.value === 'number' ? high.value : Infinity;
    if (low || high) out.push([str(low?.system ?? high?.system), str(low?.code ?? high?.code), lo, hi]);
    return;
  }
  if (typeof v.value === 'number') out.push([str(v.system), str(v.code) || str(v.unit), v.value, v.value]);
}

const REF_RE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Splits a literal reference into [type, id]; absolute URLs keep their last Type/id segments. */
export function parseReference(reference: string): [string, string] | undefined {
  if (reference.startsWith('#')) return undefined;
  const m = REF_RE.exec(reference);
  if (m) return [m[1]!, m[2]!];
  return ['', reference];
}

function addComposite(def: SearchParamDef, focus: TypedItem, rows: IndexRows): void {
  const comps = def.components;
  if (!comps || comps.length < 2) return;
  const [a, b] = comps as [
    NonNullable<SearchParamDef['components']>[number],
    NonNullable<SearchParamDef['components']>[number],
  ];
  const aParts: [string, string][] = [];
  for (const item of a.path([focus])) {
    if (a.def.type === 'reference') {
      const ref = (item.v as Rec).reference;
      const p = typeof ref === 'string' ? parseReference(ref) : undefined;
      if (p) aParts.push(p);
    } else tokenParts(item, aParts, []);
  }
  if (aParts.length === 0) return;
  const bRows: [string, string, number, number, string][] = [];
  for (const item of b.path([focus])) {
    switch (b.def.type) {
      case 'token': {
        const parts: [string, string][] = [];
        tokenParts(item, parts, []);
        for (const [s, c] of parts) bRows.push([s, c, 0, 0, '']);
        break;
      }
      case 'quantity': {
        const parts: [string, string, number, number][] = [];
        quantityParts(item, parts);
        for (const [s, c, lo, hi] of parts) bRows.push([s, c, lo, hi, '']);
        break;
      }
      case 'date': {
        const parts: [number, number][] = [];
        dateParts(item, parts);
        for (const [lo, hi] of parts) bRows.push(['', '', lo, hi, '']);
        break;
      }
      case 'string': {
        const parts: string[] = [];
        stringParts(item, parts);
        for (const s of parts) bRows.push(['', '', 0, 0, normaliseString(s)]);
        break;
      }
      case 'reference': {
        const ref = (item.v as Rec).reference;
        const p = typeof ref === 'string' ? parseReference(ref) : undefined;
        if (p) bRows.push([p[0], p[1], 0, 0, '']);
        break;
      }
      default:
        break;
    }
  }
  for (const [as, ac] of aParts) {
    for (const [bs, bc, lo, hi, text] of bRows) rows.composite.push([def.code, as, ac, bs, bc, lo, hi, text]);
  }
}

/** Computes every search index row of a resource from the R4 SearchParameter definitions. */
/**
 * The `[system, code]` pairs a token parameter indexes for a resource, exactly as {@link indexRows}
 * stores them (codes cut to {@link MAX_INDEXED_STRING}); empty for a parameter stored under others.
 * Lets a caller decide in memory whether a token search would match a resource.
 */
export function tokenValuesOf(def: SearchParamDef, resource: { resourceType: string }): [string, string][] {
  if (def.type !== 'token' || !def.indexed || def.storedAs) return [];
  const parts: [string, string][] = [];
  for (const item of def.extract(resource)) tokenParts(item, parts, []);
  return parts.map(([s, c]) => [s, c.slice(0, MAX_INDEXED_STRING)]);
}

export function indexRows(resource: { resourceType: string }): IndexRows {
  const rows: IndexRows = { token: [], string: [], date: [], number: [], quantity: [], reference: [], composite: [] };
  for (const def of searchParams(resource.resourceType).values()) {
    if (!def.indexed || def.storedAs) continue;
    const items = def.extract(resource);
    if (items.length === 0) continue;
    const code = def.code;
    switch (def.type) {
      case 'token': {
        const parts: [string, string][] = [];
        const texts: string[] = [];
        for (const item of items) tokenParts(item, parts, texts);
        for (const [s, c] of parts) rows.token.push([code, s, c.slice(0, MAX_INDEXED_STRING)]);
        for (const t of texts) rows.string.push([`${code}:text`, normaliseString(t), t.slice(0, MAX_INDEXED_STRING)]);
        break;
      }
      case 'string': {
        const parts: string[] = [];
        for (const item of items) stringParts(item, parts);
        for (const s of parts) rows.string.push([code, normaliseString(s), s.slice(0, MAX_INDEXED_STRING)]);
        break;
      }
      case 'date': {
        const parts: [number, number][] = [];
        for (const item of items) dateParts(item, parts);
        for (const [lo, hi] of parts) rows.date.push([code, lo, hi]);
        break;
      }
      case 'number':
        for (const item of items) if (typeof item.v === 'number') rows.number.push([code, item.v]);
        break;
      case 'quantity': {
        const parts: [string, string, number, number][] = [];
        for (const item of items) quantityParts(item, parts);
        for (const [s, c, lo, hi] of parts) rows.quantity.push([code, s, c, lo, hi]);
        break;
      }
      case 'uri':
        for (const item of items) if (typeof item.v === 'string') rows.token.push([code, '', item.v]);
        break;
      case 'reference':
        for (const item of items) {
          if (typeof item.v === 'string') {
            rows.reference.push([code, '', item.v]);
            continue;
          }
          const ref = item.v as Rec;
          if (typeof ref.reference === 'string') {
            const p = parseReference(ref.reference);
            if (p) rows.reference.push([code, p[0], p[1]]);
          }
          const ident = ref.identifier as Rec | undefined;
          if (ident && typeof ident.value === 'string')
            rows.token.push([`${code}:identifier`, str(ident.system), ident.value]);
        }
        break;
      case 'composite':
        for (const item of items) addComposite(def, item, rows);
        break;
      default:
        break;
    }
  }
  return rows;
}

interface CompartmentDefinition {
  resource?: { code: string; param?: string[] }[];
}
let patientCompartment: Map<string, readonly string[]> | undefined;

/** The reference parameters that put a resource type in the Patient compartment (R4 CompartmentDefinition). */
export function patientCompartmentParams(resourceType: string): readonly string[] {
  if (!patientCompartment) {
    const def = readDefinition<CompartmentDefinition>('compartmentdefinition-patient.json');
    patientCompartment = new Map((def.resource ?? []).map((r) => [r.code, r.param ?? []]));
  }
  return patientCompartment.get(resourceType) ?? [];
}

/** The id of the patient a resource belongs to (its own id for a Patient), used as the patient key. */
export function patientKey(resource: { resourceType: string; id?: string }, rows: IndexRows): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const params = patientCompartmentParams(resource.resourceType);
  if (params.length === 0) return undefined;
  for (const [param, type, id] of rows.reference) if (type === 'Patient' && params.includes(param)) return id;
  return undefined;
}
