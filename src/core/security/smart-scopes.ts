import { type FhirInteraction, permissionFor, type ScopePermission } from './fhir-interaction.ts';
import { type ScopeProblem, scopeProblem } from './scope-problem.ts';

/**
 * SMART App Launch scopes (HL7 SMART App Launch v2.0.0/2.2.0, "Scopes and Launch Context",
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html). Section names below refer
 * to that page.
 */

/** `patient/`, `user/` or `system/` ("Scopes for requesting FHIR Resources"). */
export type ScopeContext = 'patient' | 'user' | 'system';

/** One `name=value` of a scope's query ("Finer-grained resource constraints using search parameters"). */
export interface SearchRestriction {
  readonly name: string;
  readonly value: string;
}

/** A scope granting access to FHIR resources, always in v2 form (v1 scopes are translated). */
export interface ResourceScope {
  readonly kind: 'resource';
  readonly context: ScopeContext;
  /** A resource type name, or `'*'` for every type ("Wildcard scopes"). */
  readonly resourceType: string;
  /** Distinct letters in `cruds` order. */
  readonly permissions: readonly ScopePermission[];
  /** Search-parameter constraints; all must hold (they combine like repeated search parameters: AND). */
  readonly restrictions: readonly SearchRestriction[];
  /** The scope as written by the client (v1 form kept as given). */
  readonly text: string;
}

/** Scopes that are recognised but grant no resource access. */
export type NonResourceScopeName =
  | 'launch'
  | 'launch/patient'
  | 'launch/encounter'
  | 'openid'
  | 'fhirUser'
  | 'profile'
  | 'offline_access'
  | 'online_access';

/**
 * `launch*` ("Scopes for requesting context data"), `openid fhirUser` (`profile` in v1)
 * ("Scopes for requesting identity data"), `offline_access` / `online_access`
 * ("Scopes for requesting a refresh token").
 */
export const NON_RESOURCE_SCOPES: readonly NonResourceScopeName[] = [
  'launch',
  'launch/patient',
  'launch/encounter',
  'openid',
  'fhirUser',
  'profile',
  'offline_access',
  'online_access',
];

export interface NonResourceScope {
  readonly kind: 'non-resource';
  readonly name: NonResourceScopeName;
  readonly text: NonResourceScopeName;
}

export type Scope = ResourceScope | NonResourceScope;

/** What a request asks for; see {@link permits}. */
export interface AccessRequest {
  readonly context: ScopeContext;
  readonly resourceType: string;
  readonly interaction: FhirInteraction;
}

/**
 * The outcome of {@link decide}: `allow` unconditionally; `allow-filtered` when only scopes with
 * search restrictions grant it — the caller must check that the resource (or every search result)
 * matches at least one of the `anyOf` restriction lists; otherwise `deny`.
 */
export type AccessDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'allow-filtered'; readonly anyOf: readonly (readonly SearchRestriction[])[] }
  | { readonly kind: 'deny' };

const ORDER: readonly ScopePermission[] = ['c', 'r', 'u', 'd', 's'];
const RESOURCE = /^([^/]+)\/([^.]+)\.([^.?]+)(\?.*)?$/;
const TYPE = /^[A-Z][A-Za-z]{1,63}$/;

// "Scope equivalence with SMART v1": .read = .rs, .write = .cud, .* = .cruds.
// A Map, not an object literal: `.toString` or `.constructor` must not find inherited members.
const V1: ReadonlyMap<string, readonly ScopePermission[]> = new Map([
  ['read', ['r', 's']],
  ['write', ['c', 'u', 'd']],
  ['*', ['c', 'r', 'u', 'd', 's']],
]);

/**
 * Parses one scope. v2 permission strings must be a non-empty subset of `cruds` in that order
 * ("Scopes for requesting FHIR Resources"); v1 `read`/`write`/`*` are translated to their v2
 * equivalents. Search restrictions (`?category=…`) are kept; see {@link decide}.
 */
export function parseScope(text: string): { readonly ok: true; readonly scope: Scope } | ScopeProblem {
  if (text === '') return scopeProblem('empty', text);
  if ((NON_RESOURCE_SCOPES as readonly string[]).includes(text)) {
    const name = text as NonResourceScopeName;
    return { ok: true, scope: { kind: 'non-resource', name, text: name } };
  }
  const m = RESOURCE.exec(text);
  if (!m) return scopeProblem('unknown-scope', text);
  const [, context = '', resourceType = '', perms = '', query] = m;
  if (context !== 'patient' && context !== 'user' && context !== 'system') return scopeProblem('bad-context', text);
  if (resourceType !== '*' && !TYPE.test(resourceType)) return scopeProblem('bad-resource-type', text);
  const v1 = V1.get(perms);
  const permissions = v1 ?? v2Permissions(perms);
  if (permissions === undefined) return scopeProblem('bad-permissions', text);
  // v1 scopes never carried restrictions; a query after .read is a client error, not a v2 constraint.
  if (query !== undefined && v1 !== undefined) return scopeProblem('bad-permissions', text);
  const restrictions = query === undefined ? [] : parseRestrictions(query.slice(1));
  if (restrictions === undefined) return scopeProblem('bad-restriction', text);
  return { ok: true, scope: { kind: 'resource', context, resourceType, permissions, restrictions, text } };
}

/**
 * Parses a space-separated scope string (OAuth 2.0 RFC 6749 §3.3) or a list. Fails on the first
 * unrecognised scope, naming it; with `unknown: 'ignore'` unrecognised scopes (e.g. an identity
 * provider's own `email`) are dropped instead, while malformed SMART resource scopes still fail.
 */
export function parseScopes(
  input: string | readonly string[],
  options: { readonly unknown?: 'reject' | 'ignore' } = {},
): { readonly ok: true; readonly scopes: readonly Scope[] } | ScopeProblem {
  const parts = typeof input === 'string' ? input.split(/ +/).filter((s) => s !== '') : input;
  const scopes: Scope[] = [];
  for (const part of parts) {
    const r = parseScope(part);
    if (r.ok) scopes.push(r.scope);
    else if (!(options.unknown === 'ignore' && r.code === 'unknown-scope')) return r;
  }
  return { ok: true, scopes };
}

/** The v2 text of a resource scope (`user/Observation.rs?category=laboratory`). */
export function formatScope(scope: Scope): string {
  if (scope.kind === 'non-resource') return scope.name;
  const query = scope.restrictions.map((r) => `${escapeQuery(r.name)}=${escapeQuery(r.value)}`).join('&');
  return `${scope.context}/${scope.resourceType}.${scope.permissions.join('')}${query ? `?${query}` : ''}`;
}

/** Space-separated v2 form of `scopes`, as an OAuth `scope` value. */
export function formatScopes(scopes: readonly Scope[]): string {
  return scopes.map(formatScope).join(' ');
}

/**
 * Decides a request against granted scopes. A scope applies when its context equals
 * `request.context`, its type is the requested one or `*` ("Wildcard scopes"), and it has the
 * permission the interaction needs ({@link permissionFor}). For a system-level interaction pass
 * resource type `'*'`: then only wildcard scopes apply.
 */
export function decide(scopes: readonly Scope[], request: AccessRequest): AccessDecision {
  const needed = permissionFor(request.interaction);
  const anyOf: (readonly SearchRestriction[])[] = [];
  for (const s of scopes) {
    if (s.kind !== 'resource' || s.context !== request.context || !s.permissions.includes(needed)) continue;
    if (s.resourceType !== '*' && s.resourceType !== request.resourceType) continue;
    if (s.restrictions.length === 0) return { kind: 'allow' };
    anyOf.push(s.restrictions);
  }
  return anyOf.length > 0 ? { kind: 'allow-filtered', anyOf } : { kind: 'deny' };
}

/**
 * True when a scope grants the request without conditions. Scopes with search restrictions never
 * make this true on their own (fail closed); use {@link decide} to get their filters.
 */
export function permits(scopes: readonly Scope[], request: AccessRequest): boolean {
  return decide(scopes, request).kind === 'allow';
}

/** True when `outer` grants everything `inner` grants (same context, type, permissions ⊇, fewer constraints). */
export function covers(outer: ResourceScope, inner: ResourceScope): boolean {
  return (
    outer.context === inner.context &&
    (outer.resourceType === '*' || outer.resourceType === inner.resourceType) &&
    inner.permissions.every((p) => outer.permissions.includes(p)) &&
    outer.restrictions.every((r) => inner.restrictions.some((q) => q.name === r.name && q.value === r.value))
  );
}

/**
 * What both scopes grant, or `undefined`: same context, the narrower type, shared permissions, and
 * both sets of restrictions (AND).
 */
export function intersectScope(a: ResourceScope, b: ResourceScope): ResourceScope | undefined {
  if (a.context !== b.context) return undefined;
  if (a.resourceType !== '*' && b.resourceType !== '*' && a.resourceType !== b.resourceType) return undefined;
  const permissions = ORDER.filter((p) => a.permissions.includes(p) && b.permissions.includes(p));
  if (permissions.length === 0) return undefined;
  const restrictions = [...a.restrictions];
  for (const r of b.restrictions) {
    if (!restrictions.some((q) => q.name === r.name && q.value === r.value)) restrictions.push(r);
  }
  const scope = {
    kind: 'resource' as const,
    context: a.context,
    resourceType: a.resourceType === '*' ? b.resourceType : a.resourceType,
    permissions,
    restrictions,
    text: '',
  };
  return { ...scope, text: formatScope(scope) };
}

function v2Permissions(perms: string): readonly ScopePermission[] | undefined {
  let at = 0;
  const out: ScopePermission[] = [];
  for (const ch of perms) {
    const i = ORDER.indexOf(ch as ScopePermission, at);
    if (i < 0) return undefined;
    out.push(ORDER[i]!);
    at = i + 1;
  }
  return out.length > 0 ? out : undefined;
}

// Only what would break re-parsing is escaped, so `system|code` tokens stay readable as in the spec's examples.
function escapeQuery(text: string): string {
  return text.replace(/[%&= ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseRestrictions(query: string): readonly SearchRestriction[] | undefined {
  const out: SearchRestriction[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) return undefined;
    try {
      out.push({ name: decodeURIComponent(pair.slice(0, eq)), value: decodeURIComponent(pair.slice(eq + 1)) });
    } catch {
      return undefined;
    }
  }
  return out;
}
