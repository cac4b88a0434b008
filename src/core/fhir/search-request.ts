import { parseDateRange } from './dates.ts';
import { isResourceType } from './definitions.ts';
import { Errors } from './errors.ts';
import { normaliseIdentifierValue } from './identifier-normalisation.ts';
import { normaliseString } from './index-rows.ts';
import { type SearchParamDef, searchParam } from './search-parameters.ts';

/** Comparison prefixes of number, date and quantity parameters (FHIR R4 §3.1.1.4.x). */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export type TokenValue = { kind: 'token'; system: string | undefined; code: string | undefined };
export type StringValue = { kind: 'string'; value: string; norm: string };
export type RangeValue = { kind: 'range'; prefix: Prefix; lo: number; hi: number; value: number };
export type QuantityValue = RangeValue & { system: string | undefined; code: string | undefined };
export type ReferenceValue = { kind: 'reference'; type: string | undefined; id: string };
export type CompositeValue = { kind: 'composite'; parts: [ParamValue, ParamValue] };
export type ParamValue = TokenValue | StringValue | RangeValue | QuantityValue | ReferenceValue | CompositeValue;

/** One parsed filter: the values are OR'ed; the filters of a request are AND'ed. */
export type SearchFilter =
  | { kind: 'id'; values: string[]; not: boolean; missing?: undefined }
  | { kind: 'lastUpdated'; values: RangeValue[] }
  | {
      kind: 'param';
      def: SearchParamDef;
      modifier: string | undefined;
      values: ParamValue[];
      /** `:missing=true|false`. */
      missing?: boolean;
    }
  | {
      kind: 'chain';
      def: SearchParamDef;
      targetTypes: string[];
      inner: SearchFilter;
    }
  | {
      /** `_has:Type:ref:param=value` — reverse chaining. */
      kind: 'has';
      type: string;
      refParam: SearchParamDef;
      inner: SearchFilter;
    };

/** A parsed search: filters plus result parameters. */
export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  count: number;
  offset: number;
  /** Highest rid visible to this search (stable paging across inserts). */
  snapshot: number | undefined;
  sort: { def: SearchParamDef | '_id' | '_lastUpdated'; desc: boolean }[];
  include: { type: string; def: SearchParamDef; target: string | undefined; iterate: boolean }[];
  revinclude: { type: string; def: SearchParamDef; target: string | undefined; iterate: boolean }[];
  summary: 'true' | 'false' | 'count' | 'data' | 'text' | undefined;
  elements: string[] | undefined;
  total: 'none' | 'estimate' | 'accurate' | undefined;
  /** Parameters ignored under `Prefer: handling=lenient`. */
  ignored: string[];
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Splits on an unescaped separator (R4 §3.1.1.4.8 escaping with `\`). The escapes are removed,
 * or kept with `keepEscapes` for parts that are split again (composite `$`, token `|`).
 */
export function splitEscaped(s: string, sep: string, keepEscapes = false): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += keepEscapes ? c + s[++i] : s[++i];
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const splitKeep = (s: string, sep: string) => splitEscaped(s, sep, true);

const unescapeValue = (s: string) => s.replace(/\\(.)/g, '$1');

function prefixed(name: string, raw: string): { prefix: Prefix; rest: string } {
  const p = raw.slice(0, 2);
  if (PREFIXES.has(p) && raw.length > 2 && !/^[a-z]/.test(raw.slice(2)))
    return { prefix: p as Prefix, rest: raw.slice(2) };
  if (PREFIXES.has(p) && name === '' && raw.length > 2) return { prefix: p as Prefix, rest: raw.slice(2) };
  return { prefix: 'eq', rest: raw };
}

/** Number with its implicit precision range (R4 §3.1.1.4.1: 100 means [99.5, 100.5)). */
export function parseNumberRange(name: string, raw: string): RangeValue {
  const { prefix, rest } = prefixed(name, raw);
  if (!NUMBER_RE.test(rest)) throw Errors.invalidSearchValue(name, raw, 'not a number');
  const value = Number(rest);
  const m = /^[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(rest);
  const decimals = (m?.[1]?.length ?? 0) - Number(m?.[2] ?? 0);
  const half = 0.5 * 10 ** -decimals;
  return { kind: 'range', prefix, value, lo: value - half, hi: value + half };
}

function parseDate(name: string, raw: string): RangeValue {
  const { prefix, rest } = prefixed(name, raw);
  const r = parseDateRange(rest);
  if (!r)
    throw Errors.invalidSearchValue(
      name,
      raw,
      'not a FHIR date/dateTime (YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|±hh:mm]]]])',
    );
  return { kind: 'range', prefix, value: r.lo, lo: r.lo, hi: r.hi };
}

function parseToken(raw: string): TokenValue {
  const parts = splitEscaped(raw, '|');
  if (parts.length === 1)
    return { kind: 'token', system: undefined, code: normaliseIdentifierValue(undefined, parts[0]!) };
  const [system = '', ...rest] = parts;
  const code = rest.join('|');
  return { kind: 'token', system, code: code === '' ? undefined : normaliseIdentifierValue(system, code) };
}

function parseQuantity(name: string, raw: string): QuantityValue {
  const [num = '', system, ...code] = splitEscaped(raw, '|');
  const n = parseNumberRange(name, num);
  const c = code.join('|');
  return {
    ...n,
    system: system === undefined || system === '' ? undefined : system,
    code: system === undefined ? undefined : c === '' ? undefined : c,
  };
}

function parseReference(
  name: string,
  raw: string,
  typeModifier: string | undefined,
  def: SearchParamDef,
): ReferenceValue {
  const v = unescapeValue(raw);
  if (v === '') throw Errors.invalidSearchValue(name, raw, 'empty reference');
  const m = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/.exec(v);
  if (m && isResourceType(m[1]!)) {
    if (typeModifier && typeModifier !== m[1])
      throw Errors.invalidSearchValue(name, raw, `type is not ${typeModifier}`);
    return { kind: 'reference', type: m[1], id: m[2]! };
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(v)) {
    const type = typeModifier ?? (def.target.length === 1 ? def.target[0] : undefined);
    return { kind: 'reference', type, id: v };
  }
  // Canonical or absolute URL references are matched as they are.
  return { kind: 'reference', type: '', id: v };
}

const TOKEN_MODIFIERS = new Set(['not', 'text', 'missing', 'of-type', 'below', 'above']);
const STRING_MODIFIERS = new Set(['exact', 'contains', 'missing']);
const URI_MODIFIERS = new Set(['below', 'above', 'missing']);

function parseValue(def: SearchParamDef, name: string, raw: string, modifier: string | undefined): ParamValue {
  switch (def.type) {
    case 'token':
      if (modifier === 'text')
        return { kind: 'string', value: unescapeValue(raw), norm: normaliseString(unescapeValue(raw)) };
      return parseToken(raw);
    case 'string':
    case 'uri':
      return { kind: 'string', value: unescapeValue(raw), norm: normaliseString(unescapeValue(raw)) };
    case 'date':
      return parseDate(name, raw);
    case 'number':
      return parseNumberRange(name, raw);
    case 'quantity':
      return parseQuantity(name, raw);
    case 'reference':
      if (modifier === 'identifier') return parseToken(raw);
      return parseReference(name, raw, modifier && isResourceType(modifier) ? modifier : undefined, def);
    case 'composite': {
      const parts = splitKeep(raw, '$');
      const comps = def.components ?? [];
      if (parts.length !== 2 || comps.length !== 2)
        throw Errors.invalidSearchValue(name, raw, 'a composite value is <a>$<b>');
      return {
        kind: 'composite',
        parts: [
          parseValue(comps[0]!.def, name, parts[0]!, undefined),
          parseValue(comps[1]!.def, name, parts[1]!, undefined),
        ],
      };
    }
    default:
      throw Errors.invalidModifier(name, def.type);
  }
}

function checkModifier(def: SearchParamDef, name: string, modifier: string | undefined): void {
  if (modifier === undefined || modifier === 'missing') return;
  const ok =
    def.type === 'token'
      ? TOKEN_MODIFIERS.has(modifier)
      : def.type === 'string'
        ? STRING_MODIFIERS.has(modifier)
        : def.type === 'uri'
          ? URI_MODIFIERS.has(modifier)
          : def.type === 'reference'
            ? modifier === 'identifier' || isResourceType(modifier)
            : false;
  if (!ok) throw Errors.invalidModifier(name, modifier);
}

/** Parses one `name[:modifier][.chain]=value` into a filter for `type`. */
export function parseFilter(type: string, name: string, value: string): SearchFilter {
  if (name.startsWith('_has:')) {
    const [, hasType = '', refCode = '', ...rest] = name.split(':');
    const innerName = rest.join(':');
    if (!isResourceType(hasType)) throw Errors.unknownSearchParam(type, name);
    const refParam = searchParam(hasType, refCode);
    if (refParam?.type !== 'reference' || innerName === '') throw Errors.unknownSearchParam(type, name);
    return { kind: 'has', type: hasType, refParam, inner: parseFilter(hasType, innerName, value) };
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    const head = name.slice(0, dot);
    const [code = '', typeMod] = head.split(':');
    const def = searchParam(type, code);
    if (def?.type !== 'reference') throw Errors.unknownSearchParam(type, name);
    const innerName = name.slice(dot + 1);
    const innerCode = innerName.split(/[:.]/)[0]!;
    let targets = typeMod
      ? [typeMod]
      : def.target.filter((t) => searchParam(t, innerCode) || innerCode.startsWith('_'));
    if (typeMod && !isResourceType(typeMod)) throw Errors.invalidModifier(code, typeMod);
    if (targets.length === 0) throw Errors.unknownSearchParam(type, name);
    if (innerName.includes('.')) throw Errors.notSupported(`Chaining more than one level ('${name}')`);
    // Each target type gets its own inner filter (parameter definitions differ per type).
    if (targets.length > 1) targets = targets.filter((t) => searchParam(t, innerCode));
    const inner = parseFilter(targets[0]!, innerName, value);
    return { kind: 'chain', def, targetTypes: targets, inner };
  }
  const colon = name.indexOf(':');
  const code = colon >= 0 ? name.slice(0, colon) : name;
  const modifier = colon >= 0 ? name.slice(colon + 1) : undefined;
  if (code === '_id') {
    if (modifier && modifier !== 'not') throw Errors.invalidModifier(code, modifier);
    const values = splitEscaped(value, ',');
    for (const v of values)
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(v)) throw Errors.invalidSearchValue(name, v, 'not a valid id');
    return { kind: 'id', values, not: modifier === 'not' };
  }
  if (code === '_lastUpdated') {
    if (modifier) throw Errors.invalidModifier(code, modifier);
    return { kind: 'lastUpdated', values: splitKeep(value, ',').map((v) => parseDate(name, v)) };
  }
  const def = searchParam(type, code);
  if (!def) throw Errors.unknownSearchParam(type, code);
  if (!def.indexed && def.type !== 'composite') throw Errors.notSupported(`Search parameter '${code}'`);
  checkModifier(def, name, modifier);
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw Errors.invalidSearchValue(name, value, 'expected true or false');
    return { kind: 'param', def, modifier, values: [], missing: value === 'true' };
  }
  if (value === '') throw Errors.invalidSearchValue(name, value, 'empty value');
  const values = splitKeep(value, ',').map((v) => parseValue(def, name, v, modifier));
  return { kind: 'param', def, modifier, values };
}

function parseIncludes(type: string, name: string, values: string[], rev: boolean): SearchRequest['include'] {
  const out: SearchRequest['include'] = [];
  const iterate = name.endsWith(':iterate') || name.endsWith(':recurse');
  for (const v of values) {
    if (v === '*') throw Errors.notSupported(`${name}=*`);
    const [srcType = '', code = '', target] = v.split(':');
    if (!isResourceType(srcType)) throw Errors.invalidSearchValue(name, v, `unknown resource type '${srcType}'`);
    if (!rev && srcType !== type && !iterate)
      throw Errors.invalidSearchValue(name, v, `_include must start with ${type}`);
    const def = searchParam(srcType, code);
    if (def?.type !== 'reference')
      throw Errors.invalidSearchValue(name, v, `'${code}' is not a reference parameter of ${srcType}`);
    if (target && !isResourceType(target)) throw Errors.invalidSearchValue(name, v, `unknown target type '${target}'`);
    out.push({ type: srcType, def, target, iterate });
  }
  return out;
}

/** Parameters that control results rather than filter them. */
const RESULT_PARAMS = new Set([
  '_count',
  '_offset',
  '_page',
  '_sort',
  '_include',
  '_revinclude',
  '_include:iterate',
  '_revinclude:iterate',
  '_summary',
  '_elements',
  '_total',
  '_format',
  '_pretty',
]);

/**
 * Parses a search (query string pairs, as from `GET Type?…` or `POST Type/_search`) into a
 * {@link SearchRequest}. An unknown or malformed parameter throws a 400 naming it, unless
 * `lenient` (`Prefer: handling=lenient`), in which case it is ignored and listed in `ignored`.
 */
export function parseSearchRequest(type: string, params: readonly [string, string][], lenient = false): SearchRequest {
  const req: SearchRequest = {
    resourceType: type,
    filters: [],
    count: DEFAULT_COUNT,
    offset: 0,
    snapshot: undefined,
    sort: [],
    include: [],
    revinclude: [],
    summary: undefined,
    elements: undefined,
    total: undefined,
    ignored: [],
  };
  for (const [name, value] of params) {
    try {
      if (!RESULT_PARAMS.has(name)) {
        req.filters.push(parseFilter(type, name, value));
        continue;
      }
      applyResultParam(req, type, name, value);
    } catch (e) {
      if (!lenient) throw e;
      req.ignored.push(name);
    }
  }
  return req;
}

function applyResultParam(req: SearchRequest, type: string, name: string, value: string): void {
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw Errors.invalidSearchValue(name, value, 'expected a non-negative integer');
      req.count = Math.min(n, MAX_COUNT);
      return;
    }
    case '_offset': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw Errors.invalidSearchValue(name, value, 'expected a non-negative integer');
      req.offset = n;
      return;
    }
    case '_page': {
      const m = /^(\d+)\.(\d+)$/.exec(value);
      if (!m) throw Errors.invalidSearchValue(name, value, 'not a page token of this server');
      req.offset = Number(m[1]);
      req.snapshot = Number(m[2]);
      return;
    }
    case '_sort':
      for (const key of value.split(',')) {
        const desc = key.startsWith('-');
        const code = desc ? key.slice(1) : key;
        if (code === '_id' || code === '_lastUpdated') {
          req.sort.push({ def: code, desc });
          continue;
        }
        const def = searchParam(type, code);
        if (!def?.indexed || def.type === 'composite')
          throw Errors.invalidSearchValue(name, value, `cannot sort by '${code}'`);
        req.sort.push({ def, desc });
      }
      return;
    case '_include':
    case '_include:iterate':
      req.include.push(...parseIncludes(type, name, value.split(','), false));
      return;
    case '_revinclude':
    case '_revinclude:iterate':
      req.revinclude.push(...parseIncludes(type, name, value.split(','), true));
      return;
    case '_summary':
      if (!['true', 'false', 'count', 'data', 'text'].includes(value))
        throw Errors.invalidSearchValue(name, value, 'expected true, false, count, data or text');
      req.summary = value as SearchRequest['summary'];
      return;
    case '_elements':
      req.elements = value
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      return;
    case '_total':
      if (!['none', 'estimate', 'accurate'].includes(value))
        throw Errors.invalidSearchValue(name, value, 'expected none, estimate or accurate');
      req.total = value as SearchRequest['total'];
      return;
    default:
      return;
  }
}
