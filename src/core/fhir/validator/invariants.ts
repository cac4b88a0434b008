/**
 * The few FHIRPath invariants evaluated by hand (no FHIRPath engine): each is data keyed by the
 * constraint key found on an element of the R4 snapshot, and compiled once into a predicate.
 * `ele-1` (no empty elements) is enforced structurally by the walker instead.
 */

import type { InvariantRule } from './element-tree.ts';

type JsonObject = Readonly<Record<string, unknown>>;

/** How an invariant asks "does this exist": a property (or its `_` sibling), or any `prefix[x]` key. */
export type Presence =
  | { readonly kind: 'key'; readonly key: string; readonly extensionKey: string }
  | { readonly kind: 'choice'; readonly prefix: string };

/** A hand-evaluated invariant, by shape. */
export type InvariantSpec =
  | { readonly kind: 'not-both'; readonly first: Presence; readonly second: Presence }
  | { readonly kind: 'exactly-one'; readonly first: Presence; readonly second: Presence }
  | { readonly kind: 'implies'; readonly first: Presence; readonly second: Presence }
  | { readonly kind: 'any-of'; readonly keys: readonly string[] }
  | { readonly kind: 'only-for-types'; readonly key: string; readonly types: readonly string[] }
  | {
      readonly kind: 'entry-member';
      readonly member: string;
      readonly types: readonly string[];
      /** true: present exactly for these Bundle types; false: present only for them. */
      readonly iff: boolean;
    };

const key = (name: string): Presence => ({ kind: 'key', key: name, extensionKey: `_${name}` });
const choice = (prefix: string): Presence => ({ kind: 'choice', prefix });

/** Invariants of the R4 core definitions that are cheap to evaluate, by constraint key. */
export const HAND_CODED_INVARIANTS: Readonly<Record<string, InvariantSpec>> = {
  'ext-1': { kind: 'exactly-one', first: key('extension'), second: choice('value') },
  'obs-6': { kind: 'not-both', first: key('dataAbsentReason'), second: choice('value') },
  'qty-3': { kind: 'implies', first: key('code'), second: key('system') },
  'bdl-1': { kind: 'only-for-types', key: 'total', types: ['searchset', 'history'] },
  'bdl-2': { kind: 'entry-member', member: 'search', types: ['searchset'], iff: false },
  'bdl-3': { kind: 'entry-member', member: 'request', types: ['batch', 'transaction', 'history'], iff: true },
  'bdl-4': {
    kind: 'entry-member',
    member: 'response',
    types: ['batch-response', 'transaction-response', 'history'],
    iff: true,
  },
  'bdl-5': { kind: 'any-of', keys: ['resource', 'request', 'response'] },
};

/** Compiles the hand-coded invariant for `constraintKey`, or undefined when there is none. */
export function compileInvariant(constraintKey: string, human: string): InvariantRule | undefined {
  const spec = HAND_CODED_INVARIANTS[constraintKey];
  if (spec === undefined) return undefined;
  return { key: constraintKey, human, holds: predicate(spec) };
}

function predicate(spec: InvariantSpec): (obj: JsonObject) => boolean {
  switch (spec.kind) {
    case 'not-both':
      return (obj) => !(exists(obj, spec.first) && exists(obj, spec.second));
    case 'exactly-one':
      return (obj) => exists(obj, spec.first) !== exists(obj, spec.second);
    case 'implies':
      return (obj) => !exists(obj, spec.first) || exists(obj, spec.second);
    case 'any-of':
      return (obj) => spec.keys.some((k) => obj[k] !== undefined);
    case 'only-for-types':
      return (obj) => obj[spec.key] === undefined || typeof obj.type !== 'string' || spec.types.includes(obj.type);
    case 'entry-member':
      return (obj) => entriesMatch(obj, spec.member, spec.types, spec.iff);
    default: {
      const unreachable: never = spec;
      throw new Error(`Unknown invariant kind ${JSON.stringify(unreachable)}`);
    }
  }
}

function exists(obj: JsonObject, presence: Presence): boolean {
  if (presence.kind === 'key') return obj[presence.key] !== undefined || obj[presence.extensionKey] !== undefined;
  for (const k in obj) {
    const start = k.charCodeAt(0) === 95 ? 1 : 0;
    if (k.startsWith(presence.prefix, start) && k.length > presence.prefix.length + start) return true;
  }
  return false;
}

function entriesMatch(obj: JsonObject, member: string, types: readonly string[], iff: boolean): boolean {
  const entries = obj.entry;
  if (typeof obj.type !== 'string' || !Array.isArray(entries)) return true;
  const expected = types.includes(obj.type);
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) continue;
    const present = (entry as JsonObject)[member] !== undefined;
    if (iff ? present !== expected : present && !expected) return false;
  }
  return true;
}
