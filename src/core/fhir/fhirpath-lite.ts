import { elementInfo, isResourceType } from './definitions.ts';

/**
 * A typed value met while walking a resource: the JSON value, its FHIR type code and the
 * element path that holds its children (for backbone elements) or the type name (for data types).
 */
export interface TypedItem {
  readonly v: unknown;
  readonly t: string;
  readonly ctx: string;
}

/** A compiled path expression: typed items in, typed items out. */
export type PathFn = (input: readonly TypedItem[]) => TypedItem[];

/** Thrown when an expression uses FHIRPath beyond the subset that search extraction compiles. */
export class UnsupportedExpressionError extends Error {}

/**
 * Compiles the subset of FHIRPath used by the R4 SearchParameter definitions into fast functions:
 * unions (`|`), parentheses, member navigation (with choice types), `ofType(T)`, `as(T)`,
 * `where(resolve() is T)` and `where(name='literal')`. Anything else throws
 * {@link UnsupportedExpressionError} so that the caller can fall back to a full FHIRPath engine.
 */
export function compilePath(expression: string, relative = false): PathFn {
  const p = new Parser(expression, relative);
  const fn = p.parseUnion();
  p.expectEnd();
  return fn;
}

/** Wraps a resource as the root item of an evaluation. */
export function rootItem(resource: { resourceType: string }): TypedItem {
  return { v: resource, t: resource.resourceType, ctx: resource.resourceType };
}

const PRIMITIVES = new Set([
  'boolean',
  'integer',
  'string',
  'decimal',
  'uri',
  'url',
  'canonical',
  'base64Binary',
  'instant',
  'date',
  'dateTime',
  'time',
  'code',
  'oid',
  'id',
  'markdown',
  'unsignedInt',
  'positiveInt',
  'uuid',
  'xhtml',
]);

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pushValue(out: TypedItem[], value: unknown, type: string, ctx: string | undefined): void {
  const context = ctx ?? type;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && v !== undefined) out.push({ v, t: type, ctx: context });
  } else if (value !== null && value !== undefined) {
    out.push({ v: value, t: type, ctx: context });
  }
}

/** How to read one element from JSON: the property keys with their types, and the child context. */
interface NavPlan {
  readonly keys: readonly (readonly [key: string, type: string])[];
  readonly childContext: string | undefined;
  /** The single type is `Resource` (contained, Bundle.entry.resource): the value carries its own type. */
  readonly resource: boolean;
}

const NO_PLAN: NavPlan = { keys: [], childContext: undefined, resource: false };

function planFor(ctx: string, t: string, name: string): NavPlan {
  let info = elementInfo(ctx, name);
  if (!info && (t === 'Resource' || t === 'DomainResource' || isResourceType(t))) {
    // Resource-level elements (id, meta, text, …) are defined on Resource/DomainResource.
    info = elementInfo('DomainResource', name) ?? elementInfo('Resource', name);
  }
  if (!info) return NO_PLAN;
  if (info.choice) {
    return {
      keys: info.types.map((type) => [name + capitalise(type), type] as const),
      childContext: undefined,
      resource: false,
    };
  }
  const type = info.types[0] ?? 'Element';
  return { keys: [[name, type]], childContext: info.childContext, resource: type === 'Resource' };
}

/** Member navigation `.name`, resolving choice elements (`value` → `valueQuantity`, …). */
function member(name: string): PathFn {
  // Plans are cached per context, so navigation does no string work after the first call.
  const plans = new Map<string, NavPlan>();
  return (input) => {
    const out: TypedItem[] = [];
    for (const item of input) {
      const obj = item.v;
      if (typeof obj !== 'object' || obj === null) continue;
      let plan = plans.get(item.ctx);
      if (!plan) {
        plan = planFor(item.ctx, item.t, name);
        plans.set(item.ctx, plan);
      }
      const rec = obj as Record<string, unknown>;
      for (const [key, type] of plan.keys) {
        const value = rec[key];
        if (value === undefined) continue;
        if (plan.resource) {
          const rt = (value as { resourceType?: unknown }).resourceType;
          if (typeof rt === 'string') pushValue(out, value, rt, rt);
        } else pushValue(out, value, type, plan.childContext);
      }
    }
    return out;
  };
}

/** FHIRPath system type names used in some expressions (`ofType(DateTime)`) name FHIR primitives. */
const SYSTEM_TYPES: Record<string, string> = {
  DateTime: 'dateTime',
  Date: 'date',
  Time: 'time',
  String: 'string',
  Boolean: 'boolean',
  Integer: 'integer',
  Decimal: 'decimal',
};

function ofType(name: string): PathFn {
  const type = SYSTEM_TYPES[name] ?? name;
  return (input) =>
    input.filter(
      (i) =>
        i.t === type ||
        (type === 'Resource' && isResourceType(i.t)) ||
        (PRIMITIVES.has(type) && i.t === type) ||
        (type === 'Quantity' && (i.t === 'Age' || i.t === 'Duration' || i.t === 'Distance' || i.t === 'Count')),
    );
}

/** `where(resolve() is T)`: keeps references whose target type is T. */
function resolveIs(type: string): PathFn {
  return (input) =>
    input.filter((i) => {
      const ref = i.v as { reference?: unknown; type?: unknown };
      if (typeof ref?.type === 'string') return ref.type === type;
      if (typeof ref?.reference !== 'string') return false;
      const r = ref.reference;
      return r.startsWith(`${type}/`) || r.includes(`/${type}/`);
    });
}

function whereEquals(name: string, literal: string): PathFn {
  const nav = member(name);
  return (input) => input.filter((i) => nav([i]).some((x) => x.v === literal));
}

class Parser {
  private pos = 0;
  private readonly src: string;
  private readonly relative: boolean;
  constructor(src: string, relative: boolean) {
    this.src = src;
    this.relative = relative;
  }

  parseUnion(): PathFn {
    const parts: PathFn[] = [this.parsePath()];
    this.ws();
    while (this.peek() === '|') {
      this.pos++;
      parts.push(this.parsePath());
      this.ws();
    }
    if (parts.length === 1) return parts[0]!;
    return (input) => {
      const out: TypedItem[] = [];
      for (const p of parts) for (const x of p(input)) out.push(x);
      return out;
    };
  }

  expectEnd(): void {
    this.ws();
    if (this.pos < this.src.length) this.fail();
  }

  private parsePath(): PathFn {
    this.ws();
    let fn: PathFn;
    if (this.peek() === '(') {
      this.pos++;
      fn = this.parseUnion();
      this.ws();
      if (this.peek() !== ')') this.fail();
      this.pos++;
    } else if (this.relative) {
      fn = member(this.ident());
    } else {
      // The first identifier names the resource type (or Resource/DomainResource); callers pass
      // only terms that apply to the root's type, so it selects the root itself.
      this.ident();
      fn = (input) => input as TypedItem[];
    }
    const steps: PathFn[] = [fn];
    this.ws();
    while (this.peek() === '.' || this.src.startsWith(' as ', this.pos)) {
      if (this.peek() === '.') {
        this.pos++;
        steps.push(this.step());
      } else {
        this.pos += 4;
        steps.push(ofType(this.ident()));
      }
      this.ws();
    }
    return (input) => {
      let cur = input as TypedItem[];
      for (const s of steps) {
        cur = s(cur);
        if (cur.length === 0) break;
      }
      return cur;
    };
  }

  private step(): PathFn {
    const name = this.ident();
    if (this.peek() !== '(') return member(name);
    this.pos++;
    let fn: PathFn;
    if (name === 'ofType' || name === 'as') {
      fn = ofType(this.ident());
    } else if (name === 'where') {
      this.ws();
      if (this.src.startsWith('resolve()', this.pos)) {
        this.pos += 'resolve()'.length;
        this.ws();
        if (!this.src.startsWith('is ', this.pos)) this.fail();
        this.pos += 3;
        fn = resolveIs(this.ident());
      } else {
        const field = this.ident();
        this.ws();
        if (this.peek() !== '=') this.fail();
        this.pos++;
        this.ws();
        fn = whereEquals(field, this.literal());
      }
    } else {
      this.fail();
    }
    this.ws();
    if (this.peek() !== ')') this.fail();
    this.pos++;
    return fn;
  }

  private ident(): string {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail();
    this.pos += m[0].length;
    return m[0];
  }

  private literal(): string {
    const m = /^'([^']*)'/.exec(this.src.slice(this.pos));
    if (!m) this.fail();
    this.pos += m[0].length;
    return m[1]!;
  }

  private ws(): void {
    while (this.src[this.pos] === ' ') this.pos++;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private fail(): never {
    throw new UnsupportedExpressionError(`unsupported FHIRPath at ${this.pos}: ${this.src}`);
  }
}
