/**
 * Canonical JSON after RFC 8785 (JSON Canonicalization Scheme): object members sorted by their
 * UTF-16 code units, no insignificant whitespace, strings and numbers serialised as ECMAScript's
 * `JSON.stringify` does (RFC 8785 §3.2.2 adopts exactly that serialisation). The same value always
 * gives the same text, so its hash is stable across processes and database round trips.
 * Members whose value is `undefined` are left out; other values without a JSON form throw.
 */
export function canonicalJson(value: unknown): string {
  // Fast path: one native JSON.stringify of the value, or of a copy where some object's keys were
  // out of order (about 5× faster than serialising piece by piece; objects built in sorted order
  // are not even copied). JSON.stringify keeps insertion order except for integer-like keys, which
  // every object enumerates first, in numeric order: such values take the slow path.
  try {
    return JSON.stringify(sorted(value));
  } catch (e) {
    if (e !== INTEGER_KEY) throw e;
    return slowCanonicalJson(value);
  }
}

/** Thrown (as a sentinel) by {@link sorted} on an array-index-like key. */
const INTEGER_KEY = Symbol('integer-like key');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** The value itself when it is already canonical in member order, else a copy that is. */
function sorted(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return finite(value);
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (v === undefined) throw noJsonForm(v);
          const s = sorted(v);
          if (s !== v) copy ??= value.slice();
          if (copy) copy[i] = s;
        }
        return copy ?? value;
      }
      const proto = Object.getPrototypeOf(value);
      // Class instances (Date, Map …) serialise through toJSON or not at all: no canonical form here.
      if (proto !== Object.prototype && proto !== null) throw noJsonForm(value);
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      let changed = false;
      const children: unknown[] = [];
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (ARRAY_INDEX.test(key)) throw INTEGER_KEY;
        if (i > 0 && keys[i - 1]! > key) changed = true;
        const v = obj[key];
        const s = v === undefined ? undefined : sorted(v);
        if (s !== v) changed = true;
        children.push(s);
      }
      if (!changed) return obj;
      // `<` on strings compares UTF-16 code units, the order RFC 8785 §3.2.3 asks for.
      const order = keys.map((k, i) => [k, children[i]] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const out: Record<string, unknown> = {};
      for (const [k, s] of order) if (s !== undefined) out[k] = s;
      return out;
    }
    default:
      throw noJsonForm(value);
  }
}

function slowCanonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return JSON.stringify(finite(value));
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(slowCanonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      // Array.prototype.sort without a comparator orders by UTF-16 code units too.
      for (const key of Object.keys(obj).sort()) {
        const v = obj[key];
        if (v !== undefined) parts.push(`${JSON.stringify(key)}:${slowCanonicalJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw noJsonForm(value);
  }
}

function finite(n: number): number {
  // RFC 8785 §3.2.2.3: NaN and ±Infinity have no JSON form.
  if (!Number.isFinite(n)) throw new TypeError(`canonicalJson: non-finite number ${n}`);
  return n;
}

function noJsonForm(value: unknown): TypeError {
  return new TypeError(`canonicalJson: ${typeof value} has no JSON form`);
}
