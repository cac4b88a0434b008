import { evalFhirPathTyped } from '@medplum/core';
import { allResourceTypes, readDefinition, type SearchParameterLite } from './definitions.ts';
import { compilePath, type PathFn, rootItem, type TypedItem, UnsupportedExpressionError } from './fhirpath-lite.ts';

/** The search parameter types of FHIR R4 (§3.1.1.4). */
export type SearchParamType = SearchParameterLite['type'];

/** One search parameter of one resource type, compiled for extraction. */
export interface SearchParamDef {
  readonly resourceType: string;
  readonly code: string;
  readonly type: SearchParamType;
  readonly expression: string | undefined;
  readonly target: readonly string[];
  /** Items the expression selects from a resource; empty for parameters dxhub cannot index. */
  readonly extract: (resource: { resourceType: string }) => TypedItem[];
  /** For composite parameters: the component parameters and their relative expressions. */
  readonly components?: readonly { readonly def: SearchParamDef; readonly path: PathFn }[];
  /** Whether the expression is indexed (false: `_content`, `_query`, `near`, …). */
  readonly indexed: boolean;
  /**
   * Set when this parameter selects exactly what other parameters of the type already index
   * (R4 `combo-code` = `code` ∪ `component-code`; `patient` = `subject` restricted to Patient):
   * no rows of its own are stored and searches read the rows of `codes` (with `refType`).
   */
  storedAs?: { readonly codes: readonly string[]; readonly refType?: string; readonly conjunction?: readonly string[] };
  /** Terms of the expression (and of composite components), used to detect `storedAs`. */
  readonly signature: readonly string[];
}

interface Bundle {
  entry: { resource: SearchParameterLite }[];
}

let registry: Map<string, Map<string, SearchParamDef>> | undefined;

/** Parameters handled as resource columns rather than index rows. */
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

/** Splits a union at the top level (not inside parentheses or quotes). */
function splitUnion(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === "'") quote = !quote;
    else if (!quote && c === '(') depth++;
    else if (!quote && c === ')') depth--;
    else if (!quote && depth === 0 && c === '|') {
      parts.push(expr.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

/** The expression terms that apply to one resource type. */
function termsFor(expr: string, type: string): string[] {
  return splitUnion(expr).filter((t) => {
    const head = /^\(?\s*([A-Za-z]+)/.exec(t)?.[1];
    return head === type || head === 'Resource' || head === 'DomainResource';
  });
}

/** Expressions that needed the full FHIRPath engine (reported by `dxhub doctor`-style tooling and tests). */
export const fallbackExpressions: string[] = [];

function compileFor(expr: string, relative = false): PathFn {
  try {
    return compilePath(expr, relative);
  } catch (err) {
    if (!(err instanceof UnsupportedExpressionError)) throw err;
    fallbackExpressions.push(expr);
    // Full FHIRPath for the few expressions outside the compiled subset.
    return (input) => {
      const out: TypedItem[] = [];
      for (const item of input) {
        for (const r of evalFhirPathTyped(expr, [{ type: item.t, value: item.v }])) {
          out.push({ v: r.value, t: r.type, ctx: r.type });
        }
      }
      return out;
    };
  }
}

function build(): Map<string, Map<string, SearchParamDef>> {
  const all = readDefinition<Bundle>('search-parameters.json').entry.map((e) => e.resource);
  const byUrl = new Map(all.map((p) => [p.url, p]));
  const reg = new Map<string, Map<string, SearchParamDef>>();
  const types = allResourceTypes();
  for (const type of types) reg.set(type, new Map());

  const makeDef = (p: SearchParameterLite, type: string): SearchParamDef => {
    const terms = p.expression ? termsFor(p.expression, type) : [];
    const indexed = terms.length > 0 && p.type !== 'special' && !COLUMN_PARAMS.has(p.code);
    const fn = indexed ? compileFor(terms.join(' | ')) : undefined;
    let components: SearchParamDef['components'];
    if (p.type === 'composite' && p.component) {
      components = p.component.map((c) => {
        const cp = byUrl.get(c.definition);
        if (!cp) throw new Error(`composite ${p.url} names unknown component ${c.definition}`);
        return { def: makeDef(cp, type), path: compileFor(c.expression, true) };
      });
    }
    const compSig = p.component?.map((c) => c.expression).join('$') ?? '';
    return {
      signature: terms.map((t) => (compSig ? `${t}#${compSig.replace(/\b(?:combo|component)-/g, '')}` : t)),
      resourceType: type,
      code: p.code,
      type: p.type,
      expression: terms.join(' | ') || undefined,
      target: p.target ?? [],
      extract: fn ? (r) => fn([rootItem(r)]) : () => [],
      components,
      indexed,
    };
  };

  for (const p of all) {
    const bases = p.base.includes('Resource') || p.base.includes('DomainResource') ? types : p.base;
    for (const type of bases) {
      const m = reg.get(type);
      if (!m) continue;
      m.set(p.code, makeDef(p, type));
    }
  }
  for (const m of reg.values()) findAliases(m);
  return reg;
}

const RESOLVE_IS = /^(.*)\.where\(resolve\(\) is ([A-Za-z]+)\)$/;

/** Marks parameters whose rows other parameters of the same type already store (see `storedAs`). */
function findAliases(params: Map<string, SearchParamDef>): void {
  const byTerm = new Map<string, SearchParamDef[]>();
  for (const d of params.values()) {
    if (!d.indexed) continue;
    for (const t of d.signature) {
      const list = byTerm.get(`${d.type}:${t}`) ?? [];
      list.push(d);
      byTerm.set(`${d.type}:${t}`, list);
    }
  }
  // A composite over the resource root (Observation code-value-quantity) pairs the root's values:
  // it matches exactly when each component parameter matches, so it needs no rows of its own.
  for (const d of params.values()) {
    if (d.type !== 'composite' || !d.indexed || !d.components || d.components.length !== 2) continue;
    if (!d.signature.every((t) => t.split('#')[0] === d.resourceType)) continue;
    const comps = d.components.map((c) => params.get(c.def.code));
    if (comps.every((c) => c?.indexed && c.type !== 'composite' && !c.storedAs)) {
      d.storedAs = { codes: [], conjunction: comps.map((c) => c!.code) };
    }
  }
  for (const d of params.values()) {
    if (!d.indexed || d.signature.length === 0 || d.storedAs) continue;
    const sig = new Set(d.signature);
    // 1. A union of other parameters' terms.
    const parts = new Set<SearchParamDef>();
    let covered = true;
    for (const t of d.signature) {
      const other = (byTerm.get(`${d.type}:${t}`) ?? []).find(
        (o) => o !== d && o.signature.every((x) => sig.has(x)) && o.signature.length < d.signature.length,
      );
      if (!other) {
        covered = false;
        break;
      }
      parts.add(other);
    }
    if (covered && parts.size > 0 && [...parts].every((o) => !o.storedAs || o.storedAs.conjunction)) {
      d.storedAs = { codes: [...parts].map((o) => o.code) };
      continue;
    }
    // 2. A reference parameter restricted to one target type.
    if (d.type === 'reference' && d.signature.length === 1) {
      const m = RESOLVE_IS.exec(d.signature[0]!);
      const base = m
        ? (byTerm.get(`reference:${m[1]}`) ?? []).find((o) => o.signature.length === 1 && o !== d)
        : undefined;
      if (m && base) d.storedAs = { codes: [base.code], refType: m[2]! };
    }
  }
}

/** The search parameters of a resource type, keyed by code (memoised; built from the R4 definitions). */
export function searchParams(resourceType: string): ReadonlyMap<string, SearchParamDef> {
  registry ??= build();
  return registry.get(resourceType) ?? new Map();
}

/** One search parameter, or undefined when the type has no parameter of that code. */
export function searchParam(resourceType: string, code: string): SearchParamDef | undefined {
  return searchParams(resourceType).get(code);
}
