/**
 * Compiles R4 StructureDefinition snapshots into {@link TypeNode} trees, once. Every complex data
 * type and resource gets a node up front so nodes can refer to each other (Identifier ↔ Reference,
 * Extension ↔ Extension); backbone elements get a node per path, and `contentReference` elements
 * (e.g. Questionnaire.item.item → #Questionnaire.item) reuse the node of the referenced path.
 */

import type { ElementDefinitionJson, FhirDefinitions, StructureDefinitionJson } from './definitions.ts';
import {
  createTypeNode,
  type PrimitiveKind,
  type PropertyRule,
  type RequiredBinding,
  type TypeNode,
  type ValueRule,
} from './element-tree.ts';
import { compileInvariant } from './invariants.ts';
import type { ValueSetExpander } from './value-set-expander.ts';

/** The compiled definitions the walker needs. */
export interface CompiledStructures {
  /** Concrete (non-abstract) resource types by name. */
  readonly resources: ReadonlyMap<string, TypeNode>;
  /** The node for `_name` primitive extension siblings: Element (id, extension). */
  readonly elementNode: TypeNode;
}

const PRIMITIVE_KINDS: ReadonlySet<string> = new Set<PrimitiveKind>([
  'base64Binary',
  'boolean',
  'canonical',
  'code',
  'date',
  'dateTime',
  'decimal',
  'id',
  'instant',
  'integer',
  'markdown',
  'oid',
  'positiveInt',
  'string',
  'time',
  'unsignedInt',
  'uri',
  'url',
  'uuid',
  'xhtml',
]);
/** Primitives on which a required binding is a plain code-membership check. */
const BINDABLE_PRIMITIVES: ReadonlySet<string> = new Set(['code', 'string', 'uri']);
const SYSTEM_TYPE_PREFIX = 'http://hl7.org/fhirpath/System.';
const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
/** Choice bits live in a 31-bit integer mask. */
const MAX_CHOICES_PER_NODE = 31;

interface CompileContext {
  readonly typeNodes: Map<string, TypeNode>;
  readonly resourceNames: Set<string>;
  readonly bindings: Map<string, RequiredBinding | null>;
  readonly expander: ValueSetExpander;
}

/** Compiles all base resource and data type definitions. */
export function compileStructures(defs: FhirDefinitions, expander: ValueSetExpander): CompiledStructures {
  const structures = defs.structures.filter(
    (sd) => sd.derivation !== 'constraint' && sd.kind !== 'logical' && sd.kind !== 'primitive-type',
  );
  const ctx: CompileContext = { typeNodes: new Map(), resourceNames: new Set(), bindings: new Map(), expander };
  for (const sd of structures) {
    ctx.typeNodes.set(sd.type, createTypeNode(sd.type, sd.kind === 'resource'));
    if (sd.kind === 'resource') ctx.resourceNames.add(sd.type);
  }
  for (const sd of structures) compileSnapshot(sd, nodeOf(ctx, sd.type, sd.type), ctx);
  const resources = new Map<string, TypeNode>();
  for (const sd of structures) {
    if (sd.kind === 'resource' && !sd.abstract) resources.set(sd.type, nodeOf(ctx, sd.type, sd.type));
  }
  return { resources, elementNode: nodeOf(ctx, 'Element', 'Element') };
}

function nodeOf(ctx: CompileContext, type: string, where: string): TypeNode {
  const node = ctx.typeNodes.get(type);
  if (node === undefined) throw new Error(`No StructureDefinition for type ${type} (used at ${where})`);
  return node;
}

function compileSnapshot(sd: StructureDefinitionJson, root: TypeNode, ctx: CompileContext): void {
  const elements = sd.snapshot?.element ?? [];
  const children = new Map<string, ElementDefinitionJson[]>();
  for (const element of elements.slice(1)) {
    const parent = element.path.slice(0, element.path.lastIndexOf('.'));
    const list = children.get(parent);
    if (list === undefined) children.set(parent, [element]);
    else list.push(element);
  }
  const nodes = new Map<string, TypeNode>([[sd.type, root]]);
  for (const path of children.keys()) if (!nodes.has(path)) nodes.set(path, createTypeNode(path, false));
  for (const element of elements) {
    const node = nodes.get(element.path);
    if (node !== undefined) addInvariants(node, element);
  }
  for (const [path, kids] of children) {
    const node = nodes.get(path);
    if (node === undefined) throw new Error(`Element ${path} has children but no parent element`);
    fillNode(node, kids, { sd, nodes, children, ctx });
  }
}

function addInvariants(node: TypeNode, element: ElementDefinitionJson): void {
  for (const constraint of element.constraint ?? []) {
    if (node.invariants.some((rule) => rule.key === constraint.key)) continue;
    const rule = compileInvariant(constraint.key, constraint.human);
    if (rule !== undefined) node.invariants.push(rule);
  }
}

interface SnapshotScope {
  readonly sd: StructureDefinitionJson;
  readonly nodes: ReadonlyMap<string, TypeNode>;
  readonly children: ReadonlyMap<string, readonly ElementDefinitionJson[]>;
  readonly ctx: CompileContext;
}

function fillNode(node: TypeNode, kids: readonly ElementDefinitionJson[], scope: SnapshotScope): void {
  let choiceCount = 0;
  for (const element of kids) {
    if (element.max === '0') continue;
    const elementName = element.path.slice(element.path.lastIndexOf('.') + 1);
    const isChoice = elementName.endsWith('[x]');
    if (isChoice && choiceCount >= MAX_CHOICES_PER_NODE) throw new Error(`Too many choices in ${node.name}`);
    const common = {
      elementName,
      // JSON array-ness follows the base cardinality, even where a profile narrows max (FHIR JSON §2.6.2).
      isArray: (element.base?.max ?? element.max) !== '1',
      max: element.max === undefined || element.max === '*' ? Number.POSITIVE_INFINITY : Number(element.max),
      choiceBit: isChoice ? 1 << choiceCount++ : 0,
    };
    const keys: string[] = [];
    for (const [name, value] of propertyValues(element, elementName, isChoice, scope)) {
      const prop: PropertyRule = { ...common, name, extensionKey: `_${name}`, value };
      node.props.set(name, prop);
      keys.push(name);
      if (value.kind === 'primitive') {
        node.extensionProps.set(prop.extensionKey, prop);
        keys.push(prop.extensionKey);
      }
    }
    if ((element.min ?? 0) > 0) node.required.push({ elementName, keys, min: element.min ?? 0 });
  }
}

/** The JSON properties one element definition allows: one, or one per type for `[x]`. */
function propertyValues(
  element: ElementDefinitionJson,
  elementName: string,
  isChoice: boolean,
  scope: SnapshotScope,
): [string, ValueRule][] {
  const inline = element.contentReference
    ? scope.nodes.get(element.contentReference.slice(element.contentReference.indexOf('#') + 1))
    : scope.nodes.get(element.path);
  if (inline !== undefined)
    return [[elementName, { kind: 'complex', node: inline, coded: undefined, binding: undefined }]];
  if (element.contentReference) throw new Error(`Unresolved contentReference at ${element.path}`);
  const binding = requiredBinding(element, scope.ctx);
  const base = isChoice ? elementName.slice(0, -3) : elementName;
  return (element.type ?? []).map((type) => {
    const code = typeCode(type, element, scope.sd);
    const name = isChoice ? base + code.charAt(0).toUpperCase() + code.slice(1) : elementName;
    return [name, valueRule(code, element, binding, scope.ctx)];
  });
}

function typeCode(
  type: NonNullable<ElementDefinitionJson['type']>[number],
  element: ElementDefinitionJson,
  sd: StructureDefinitionJson,
): string {
  if (!type.code.startsWith(SYSTEM_TYPE_PREFIX)) return type.code;
  // Resource.id is of type id (FHIR §6.1.0.5) although the R4 snapshots give System.String.
  if (sd.kind === 'resource' && element.path === `${sd.type}.id`) return 'id';
  return type.extension?.find((ext) => ext.url === FHIR_TYPE_EXTENSION)?.valueUrl ?? 'string';
}

function valueRule(
  code: string,
  element: ElementDefinitionJson,
  binding: RequiredBinding | undefined,
  ctx: CompileContext,
): ValueRule {
  if (PRIMITIVE_KINDS.has(code)) {
    const primitive = code as PrimitiveKind;
    return { kind: 'primitive', primitive, binding: BINDABLE_PRIMITIVES.has(code) ? binding : undefined };
  }
  if (ctx.resourceNames.has(code)) {
    return {
      kind: 'resource',
      resourceType: code === 'Resource' ? undefined : code,
      contained: element.base?.path === 'DomainResource.contained',
    };
  }
  const coded = code === 'Coding' || code === 'CodeableConcept' ? code : undefined;
  return {
    kind: 'complex',
    node: nodeOf(ctx, code, element.path),
    coded: binding === undefined ? undefined : coded,
    binding: coded === undefined ? undefined : binding,
  };
}

function requiredBinding(element: ElementDefinitionJson, ctx: CompileContext): RequiredBinding | undefined {
  const url = element.binding?.strength === 'required' ? element.binding.valueSet : undefined;
  if (url === undefined) return undefined;
  let binding = ctx.bindings.get(url);
  if (binding === undefined) {
    const expansion = ctx.expander.expand(url);
    binding = expansion === null ? null : { valueSet: url.split('|')[0] ?? url, expansion };
    ctx.bindings.set(url, binding);
  }
  return binding ?? undefined;
}
