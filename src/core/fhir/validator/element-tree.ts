/**
 * The compiled form of the R4 StructureDefinition snapshots: one {@link TypeNode} per resource,
 * complex data type and backbone element, each holding its JSON properties in a map keyed by the
 * exact JSON property name (choice types are expanded: `value[x]` → `valueQuantity`, …). The
 * walker only reads these objects; they are built once by `structure-compiler.ts`.
 */

import type { Expansion } from './value-set-expander.ts';

/** The FHIR R4 primitive data types (FHIR §2.24.0.1), plus `xhtml` (Narrative.div). */
export type PrimitiveKind =
  | 'base64Binary'
  | 'boolean'
  | 'canonical'
  | 'code'
  | 'date'
  | 'dateTime'
  | 'decimal'
  | 'id'
  | 'instant'
  | 'integer'
  | 'markdown'
  | 'oid'
  | 'positiveInt'
  | 'string'
  | 'time'
  | 'unsignedInt'
  | 'uri'
  | 'url'
  | 'uuid'
  | 'xhtml';

/** A `required` terminology binding whose value set could be expanded locally. */
export interface RequiredBinding {
  readonly valueSet: string;
  readonly expansion: Expansion;
}

/** What one JSON property holds; `kind` picks the walker branch. */
export type ValueRule =
  | {
      readonly kind: 'primitive';
      readonly primitive: PrimitiveKind;
      readonly binding: RequiredBinding | undefined;
    }
  | {
      readonly kind: 'complex';
      readonly node: TypeNode;
      /** Set when the type is Coding or CodeableConcept and the element has a required binding. */
      readonly coded: 'Coding' | 'CodeableConcept' | undefined;
      readonly binding: RequiredBinding | undefined;
    }
  | {
      readonly kind: 'resource';
      /** A specific resource type (e.g. Bundle.entry.response.outcome), or undefined for any. */
      readonly resourceType: string | undefined;
      /** DomainResource.contained: the dom-2/dom-4/dom-5 rules apply. */
      readonly contained: boolean;
    };

/** One JSON property of a {@link TypeNode}. */
export interface PropertyRule {
  /** JSON property name, e.g. `valueQuantity`. */
  readonly name: string;
  /** `_name`: the key of the primitive extension sibling. */
  readonly extensionKey: string;
  /** Arrays in JSON are decided by the base cardinality (FHIR JSON §2.6.2). */
  readonly isArray: boolean;
  readonly max: number;
  /** Non-zero for choice elements: one bit per `[x]` element of the node. */
  readonly choiceBit: number;
  /** Name of the element in the definition, e.g. `value[x]`, for messages. */
  readonly elementName: string;
  readonly value: ValueRule;
}

/** An element with `min > 0`: present when any of `keys` (or its `_key`) is present. */
export interface RequiredRule {
  readonly elementName: string;
  readonly keys: readonly string[];
  readonly min: number;
}

/** A FHIRPath invariant evaluated by hand: returns true when the object satisfies it. */
export interface InvariantRule {
  readonly key: string;
  readonly human: string;
  readonly holds: (obj: Readonly<Record<string, unknown>>) => boolean;
}

/** A compiled resource, complex data type or backbone element. */
export interface TypeNode {
  /** Type name or element path, e.g. `Observation`, `Quantity`, `Observation.referenceRange`. */
  readonly name: string;
  readonly isResource: boolean;
  readonly props: Map<string, PropertyRule>;
  /** `_name` → the primitive property it extends. */
  readonly extensionProps: Map<string, PropertyRule>;
  readonly required: RequiredRule[];
  readonly invariants: InvariantRule[];
}

/** Creates an empty node, filled in by the compiler (nodes refer to each other cyclically). */
export function createTypeNode(name: string, isResource: boolean): TypeNode {
  return { name, isResource, props: new Map(), extensionProps: new Map(), required: [], invariants: [] };
}
