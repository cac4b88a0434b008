/**
 * The validation walk: one pass over the JSON, driven by the compiled {@link TypeNode}s. The
 * current location is kept on a reusable stack of (key, index) pairs and only turned into a
 * FHIRPath string when an issue is reported, so a valid resource costs no allocations.
 */

import type { PropertyRule, RequiredRule, TypeNode, ValueRule } from './element-tree.ts';
import { checkPrimitive } from './primitive-checks.ts';
import type { CompiledStructures } from './structure-compiler.ts';
import type { ValidationIssue } from './validation-issue.ts';
import type { Expansion } from './value-set-expander.ts';

type JsonObject = Readonly<Record<string, unknown>>;
type Severity = ValidationIssue['severity'];
type IssueCode = ValidationIssue['code'];

/** Deeper input is reported, not walked (guards the call stack against cyclic JS objects). */
const MAX_DEPTH = 256;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a JSON ${typeof value}`;
}

/** Validates resources against compiled structures; one instance is reused across calls. */
export class ResourceWalker {
  readonly #structures: CompiledStructures;
  readonly #keys: string[] = [];
  readonly #indexes: number[] = [];
  #depth = 0;
  #root = 'Resource';
  #issues: ValidationIssue[] = [];

  constructor(structures: CompiledStructures) {
    this.#structures = structures;
  }

  /** Returns the issues found in `input`; never throws. */
  validate(input: unknown): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    this.#issues = issues;
    this.#depth = 0;
    const type = isObject(input) ? input.resourceType : undefined;
    this.#root = typeof type === 'string' && this.#structures.resources.has(type) ? type : 'Resource';
    try {
      this.#resource(input, undefined, false);
    } catch (err) {
      // Only exotic JS input (throwing getters, proxies) gets here; JSON input cannot.
      this.#depth = 0;
      this.#report('error', 'invalid', `resource could not be validated: ${String(err)}`);
    }
    this.#issues = [];
    return issues;
  }

  #resource(value: unknown, expected: string | undefined, contained: boolean): void {
    if (!isObject(value)) {
      this.#report('error', 'structure', `expected a resource (JSON object), got ${describe(value)}`);
      return;
    }
    const type = value.resourceType;
    if (typeof type !== 'string') {
      const problem = type === undefined ? 'resourceType is missing' : 'resourceType must be a JSON string';
      this.#reportAt('resourceType', 'error', type === undefined ? 'required' : 'value', problem);
      return;
    }
    const node = this.#structures.resources.get(type);
    if (node === undefined) {
      const problem = `'${type}' is not a known, concrete FHIR R4 resource type`;
      this.#reportAt('resourceType', 'error', 'not-supported', problem);
      return;
    }
    if (expected !== undefined && type !== expected) {
      this.#report('error', 'invalid', `expected a ${expected} resource, got ${type}`);
    }
    if (contained) this.#checkContained(value);
    this.#object(node, value);
  }

  /** `hasValue`: for a `_name` sibling, whether the primitive value itself is present (ele-1). */
  #object(node: TypeNode, obj: JsonObject, hasValue = false): void {
    if (this.#depth > MAX_DEPTH) {
      this.#report('error', 'invalid', `nesting deeper than ${MAX_DEPTH} levels is not validated`);
      return;
    }
    let count = 0;
    let choices = 0;
    for (const key in obj) {
      const value = obj[key];
      if (value === undefined) continue;
      count++;
      const prop = node.props.get(key);
      if (prop !== undefined) {
        if (prop.choiceBit !== 0) choices = this.#choice(prop, key, choices);
        this.#property(prop, value, obj);
        continue;
      }
      const extended = node.extensionProps.get(key);
      if (extended !== undefined) {
        if (extended.choiceBit !== 0 && obj[extended.name] === undefined)
          choices = this.#choice(extended, key, choices);
        this.#extensionSibling(extended, value, obj);
        continue;
      }
      if (key === 'resourceType' && node.isResource) continue;
      this.#reportAt(key, 'error', 'structure', `unknown property '${key}' in ${node.name}`);
    }
    if (!node.isResource && (count === 0 || (count === 1 && !hasValue && obj.id !== undefined))) {
      this.#report('error', 'structure', 'element has no value and no children (ele-1); omit empty objects');
    }
    for (const rule of node.required) {
      if (!isPresent(obj, rule)) {
        this.#reportAt(
          rule.elementName,
          'error',
          'required',
          `${node.name}.${rule.elementName}: minimum required = ${rule.min}`,
        );
      }
    }
    for (const rule of node.invariants) {
      if (!rule.holds(obj)) this.#report('error', 'invalid', `${rule.key}: ${rule.human}`);
    }
  }

  #choice(prop: PropertyRule, key: string, choices: number): number {
    if ((choices & prop.choiceBit) !== 0) {
      this.#reportAt(key, 'error', 'structure', `only one type of ${prop.elementName} may be present`);
    }
    return choices | prop.choiceBit;
  }

  #property(prop: PropertyRule, value: unknown, obj: JsonObject): void {
    this.#push(prop.name);
    if (!prop.isArray) {
      if (Array.isArray(value))
        this.#report(
          'error',
          'structure',
          `${prop.elementName} has max cardinality 1: expected a single value, not an array`,
        );
      else this.#value(prop.value, value);
    } else if (!Array.isArray(value)) {
      this.#report('error', 'structure', `${prop.elementName} repeats: expected a JSON array, got ${describe(value)}`);
    } else if (value.length === 0) {
      this.#report('error', 'structure', 'empty arrays are not allowed in FHIR JSON; omit the property');
    } else {
      if (value.length > prop.max)
        this.#report('error', 'structure', `${prop.elementName}: maximum allowed = ${prop.max}`);
      const siblings = prop.value.kind === 'primitive' ? obj[prop.extensionKey] : undefined;
      for (let i = 0; i < value.length; i++) {
        this.#indexes[this.#depth - 1] = i;
        const item: unknown = value[i];
        // A null primitive keeps the array aligned with its `_name` sibling (FHIR JSON §2.6.2.1).
        if (item === null && Array.isArray(siblings) && isObject(siblings[i])) continue;
        this.#value(prop.value, item);
      }
    }
    this.#depth--;
  }

  #value(rule: ValueRule, value: unknown): void {
    switch (rule.kind) {
      case 'primitive': {
        const problem = checkPrimitive(rule.primitive, value);
        if (problem !== undefined) this.#report(problem.severity, 'value', problem.diagnostics);
        else if (rule.binding !== undefined && !rule.binding.expansion.codes.has(value as string)) {
          this.#report(
            'error',
            'code-invalid',
            `'${String(value)}' is not in the required value set ${rule.binding.valueSet}`,
          );
        }
        return;
      }
      case 'complex':
        if (!isObject(value)) {
          this.#report('error', 'structure', `expected a JSON object (${rule.node.name}), got ${describe(value)}`);
          return;
        }
        this.#object(rule.node, value);
        if (rule.coded !== undefined && rule.binding !== undefined) {
          this.#checkCoded(rule.coded, rule.binding.valueSet, rule.binding.expansion, value);
        }
        return;
      case 'resource':
        this.#resource(value, rule.resourceType, rule.contained);
        return;
      default: {
        const unreachable: never = rule;
        throw new Error(`Unknown value rule ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #extensionSibling(prop: PropertyRule, value: unknown, obj: JsonObject): void {
    this.#push(prop.extensionKey);
    const main = obj[prop.name];
    if (!prop.isArray) {
      this.#element(value, main !== undefined && main !== null);
    } else if (!Array.isArray(value) || value.length === 0) {
      this.#report('error', 'structure', `${prop.extensionKey} must be a non-empty JSON array`);
    } else {
      if (Array.isArray(main) && main.length !== value.length) {
        this.#report('error', 'structure', `${prop.extensionKey} must have the same length as ${prop.name}`);
      }
      for (let i = 0; i < value.length; i++) {
        this.#indexes[this.#depth - 1] = i;
        if (value[i] !== null)
          this.#element(value[i], Array.isArray(main) && main[i] !== null && main[i] !== undefined);
      }
    }
    this.#depth--;
  }

  #element(value: unknown, hasValue: boolean): void {
    if (isObject(value)) this.#object(this.#structures.elementNode, value, hasValue);
    else this.#report('error', 'structure', `expected a JSON object with id/extension, got ${describe(value)}`);
  }

  /** Required binding on Coding / CodeableConcept (FHIR §4.1.5: at least one coding from the set). */
  #checkCoded(type: 'Coding' | 'CodeableConcept', valueSet: string, expansion: Expansion, value: JsonObject): void {
    if (type === 'Coding') {
      if (typeof value.code === 'string' && !codingIn(expansion, value)) {
        this.#report('error', 'code-invalid', `${codingText(value)} is not in the required value set ${valueSet}`);
      }
      return;
    }
    const codings = value.coding;
    if (!Array.isArray(codings) || codings.length === 0) return;
    for (const coding of codings) if (isObject(coding) && codingIn(expansion, coding)) return;
    const first = isObject(codings[0]) ? codingText(codings[0]) : 'coding';
    this.#report('error', 'code-invalid', `no coding is in the required value set ${valueSet} (got ${first})`);
  }

  /** dom-2, dom-4, dom-5: contained resources are not nested and carry no versioning or security meta. */
  #checkContained(resource: JsonObject): void {
    if (resource.contained !== undefined) {
      this.#report('error', 'invalid', 'dom-2: a contained resource SHALL NOT contain additional contained resources');
    }
    const meta = resource.meta;
    if (!isObject(meta)) return;
    if (meta.versionId !== undefined || meta.lastUpdated !== undefined) {
      this.#report(
        'error',
        'invalid',
        'dom-4: a contained resource SHALL NOT have a meta.versionId or a meta.lastUpdated',
      );
    }
    if (meta.security !== undefined) {
      this.#report('error', 'invalid', 'dom-5: a contained resource SHALL NOT have a security label');
    }
  }

  #push(key: string): void {
    const depth = this.#depth;
    this.#keys[depth] = key;
    this.#indexes[depth] = -1;
    this.#depth = depth + 1;
  }

  #reportAt(key: string, severity: Severity, code: IssueCode, diagnostics: string): void {
    this.#push(key);
    this.#report(severity, code, diagnostics);
    this.#depth--;
  }

  #report(severity: Severity, code: IssueCode, diagnostics: string): void {
    let expression = this.#root;
    for (let i = 0; i < this.#depth; i++) {
      expression += `.${this.#keys[i]}`;
      const index = this.#indexes[i] ?? -1;
      if (index >= 0) expression += `[${index}]`;
    }
    this.#issues.push({ severity, code, expression, diagnostics });
  }
}

function isPresent(obj: JsonObject, rule: RequiredRule): boolean {
  for (const key of rule.keys) {
    const value = obj[key];
    if (value !== undefined && (rule.min <= 1 || (Array.isArray(value) && value.length >= rule.min))) return true;
  }
  return false;
}

function codingIn(expansion: Expansion, coding: JsonObject): boolean {
  const { code, system } = coding;
  if (typeof code !== 'string') return false;
  if (typeof system === 'string') return expansion.bySystem.get(system)?.has(code) ?? false;
  return expansion.codes.has(code);
}

function codingText(coding: JsonObject): string {
  return `${typeof coding.system === 'string' ? coding.system : '(no system)'}|${String(coding.code)}`;
}
