/**
 * Local expansion of R4 value sets from the definition bundles (FHIR §4.9.5 ValueSet.compose).
 * Only what can be expanded exactly-or-larger is expanded: `include.concept` lists, whole
 * CodeSystems with `content = complete` (nested concepts included), included value sets, and
 * explicit `exclude.concept` lists. Anything else (filters, external systems such as SNOMED CT,
 * LOINC or UCUM) yields `null`, meaning "cannot check": the validator then skips the binding rather
 * than reject codes it cannot see.
 */

import type {
  CodeSystemJson,
  ConceptJson,
  ExpansionContainsJson,
  ValueSetIncludeJson,
  ValueSetJson,
} from './definitions.ts';

/** The codes of an expanded value set. */
export interface Expansion {
  /** system → codes. */
  readonly bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  /** All codes regardless of system, for bindings on the `code` primitive. */
  readonly codes: ReadonlySet<string>;
}

/** Expands value sets by canonical URL (a `|version` suffix is ignored); memoised. */
export interface ValueSetExpander {
  expand(url: string): Expansion | null;
}

type MutableExpansion = Map<string, Set<string>>;

/** Builds an expander over the given terminology resources. */
export function createValueSetExpander(
  valueSets: readonly ValueSetJson[],
  codeSystems: readonly CodeSystemJson[],
): ValueSetExpander {
  const valueSetsByUrl = new Map(valueSets.map((vs) => [vs.url, vs]));
  const codeSystemsByUrl = new Map(codeSystems.map((cs) => [cs.url, cs]));
  const cache = new Map<string, MutableExpansion | null>();

  function expandRaw(url: string, visiting: Set<string>): MutableExpansion | null {
    const cached = cache.get(url);
    if (cached !== undefined) return cached;
    if (visiting.has(url)) return null;
    visiting.add(url);
    const vs = valueSetsByUrl.get(url);
    const result = vs === undefined ? null : expandValueSet(vs, visiting);
    visiting.delete(url);
    cache.set(url, result);
    return result;
  }

  function expandValueSet(vs: ValueSetJson, visiting: Set<string>): MutableExpansion | null {
    if (vs.compose === undefined) return fromExpansion(vs.expansion?.contains);
    const codes: MutableExpansion = new Map();
    for (const include of vs.compose.include) {
      if (!addInclude(codes, include, visiting)) return null;
    }
    for (const exclude of vs.compose.exclude ?? []) removeExclude(codes, exclude);
    return codes;
  }

  function addInclude(codes: MutableExpansion, include: ValueSetIncludeJson, visiting: Set<string>): boolean {
    if (include.filter !== undefined && include.filter.length > 0) return false;
    const included = include.valueSet ?? [];
    // system + valueSet, or several valueSets, mean an intersection: rare, and not needed for R4 core.
    if (included.length > 1 || (included.length === 1 && include.system !== undefined)) return false;
    const first = included[0];
    if (first !== undefined) {
      const other = expandRaw(stripVersion(first), visiting);
      if (other === null) return false;
      for (const [system, set] of other) for (const code of set) add(codes, system, code);
      return true;
    }
    const system = include.system;
    if (system === undefined) return false;
    if (include.concept !== undefined) {
      for (const concept of include.concept) add(codes, system, concept.code);
      return true;
    }
    const cs = codeSystemsByUrl.get(system);
    if (cs === undefined || cs.content !== 'complete' || cs.concept === undefined) return false;
    addConcepts(codes, system, cs.concept);
    return true;
  }

  return {
    expand(url: string): Expansion | null {
      const raw = expandRaw(stripVersion(url), new Set());
      if (raw === null) return null;
      const all = new Set<string>();
      for (const set of raw.values()) for (const code of set) all.add(code);
      return { bySystem: raw, codes: all };
    },
  };
}

/** Canonical references may carry a version: `http://hl7.org/fhir/ValueSet/x|4.0.1`. */
function stripVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}

function add(codes: MutableExpansion, system: string, code: string): void {
  let set = codes.get(system);
  if (set === undefined) {
    set = new Set();
    codes.set(system, set);
  }
  set.add(code);
}

function addConcepts(codes: MutableExpansion, system: string, concepts: readonly ConceptJson[]): void {
  for (const concept of concepts) {
    add(codes, system, concept.code);
    if (concept.concept !== undefined) addConcepts(codes, system, concept.concept);
  }
}

/** Exclusions we cannot compute leave a superset, which can only accept more, never reject more. */
function removeExclude(codes: MutableExpansion, exclude: ValueSetIncludeJson): void {
  if (exclude.system === undefined || (exclude.filter !== undefined && exclude.filter.length > 0)) return;
  if (exclude.concept === undefined) {
    if (exclude.valueSet === undefined) codes.delete(exclude.system);
    return;
  }
  const set = codes.get(exclude.system);
  if (set !== undefined) for (const concept of exclude.concept) set.delete(concept.code);
}

function fromExpansion(contains: readonly ExpansionContainsJson[] | undefined): MutableExpansion | null {
  if (contains === undefined) return null;
  const codes: MutableExpansion = new Map();
  const walk = (list: readonly ExpansionContainsJson[]): void => {
    for (const item of list) {
      if (item.system !== undefined && item.code !== undefined) add(codes, item.system, item.code);
      if (item.contains !== undefined) walk(item.contains);
    }
  };
  walk(contains);
  return codes;
}
