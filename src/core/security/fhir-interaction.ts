import { type ScopeProblem, scopeProblem } from './scope-problem.ts';

/**
 * The FHIR R4 RESTful interactions SMART resource scopes govern (FHIR R4 http.html §3.1.0;
 * code system `restful-interaction`). System-level search and history take resource type `'*'`.
 */
export type FhirInteraction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'create'
  | 'search-type'
  | 'search-system';

/** Every {@link FhirInteraction}, for tables and tests. */
export const FHIR_INTERACTIONS: readonly FhirInteraction[] = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'history-system',
  'create',
  'search-type',
  'search-system',
];

/** One letter of a SMART v2 permission string `cruds`. */
export type ScopePermission = 'c' | 'r' | 'u' | 'd' | 's';

/**
 * The permission an interaction needs, per the table in SMART App Launch v2
 * "Scopes for requesting FHIR Resources" (scopes-and-launch-context.html):
 * c = type-level create; r = instance read, vread and instance-level history; u = update and patch
 * (an update that creates is still `u`); d = delete; s = type-level search, type-level history,
 * system-level search and system-level history. Note the table puts *type-level* history under `s`.
 */
export function permissionFor(interaction: FhirInteraction): ScopePermission {
  switch (interaction) {
    case 'create':
      return 'c';
    case 'read':
    case 'vread':
    case 'history-instance':
      return 'r';
    case 'update':
    case 'patch':
      return 'u';
    case 'delete':
      return 'd';
    case 'search-type':
    case 'search-system':
    case 'history-type':
    case 'history-system':
      return 's';
  }
}

/** What a REST request (or a batch/transaction entry) asks for, as far as authorisation cares. */
export type FhirRequest =
  | { readonly kind: 'interaction'; readonly resourceType: string; readonly interaction: FhirInteraction }
  /** `GET [base]/metadata`: public (FHIR R4 http.html §3.1.0.13), no scope needed. */
  | { readonly kind: 'capabilities' }
  /** `POST [base]` with a Bundle: authorise each entry with {@link classifyFhirRequest} on its `request`. */
  | { readonly kind: 'bundle' }
  /** `$operation`: SMART resource scopes do not cover operations; needs its own rule (deny by default). */
  | { readonly kind: 'operation'; readonly name: string; readonly resourceType?: string };

const TYPE = /^[A-Z][A-Za-z]{1,63}$/;
// FHIR R4 id datatype: [A-Za-z0-9\-\.]{1,64}.
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Classifies `method` + `url` (relative to the FHIR base, with or without a leading `/` and query)
 * the way FHIR R4 http.html defines the interactions. The same function authorises a
 * batch/transaction entry from `Bundle.entry.request.method` and `.url` (FHIR R4 §3.1.0.11:
 * each entry is processed as if it were a separate request). Compartment searches
 * (`Patient/1/Observation`) are searches of the compartment's target type.
 */
export function classifyFhirRequest(method: string, url: string): FhirRequest | ScopeProblem {
  const line = `${method} ${url}`;
  const q = url.indexOf('?');
  const hasQuery = q >= 0;
  const path = (hasQuery ? url.slice(0, q) : url).replace(/^\/+|\/+$/g, '');
  const seg = path === '' ? [] : path.split('/');
  const op = seg.findIndex((s) => s.startsWith('$'));
  if (op >= 0) {
    if (op !== seg.length - 1 || (seg[0] !== undefined && op > 0 && !TYPE.test(seg[0]))) {
      return scopeProblem('bad-request-line', line);
    }
    const name = seg[op]!.slice(1);
    return op === 0 ? { kind: 'operation', name } : { kind: 'operation', name, resourceType: seg[0]! };
  }
  const [a, b, c, d] = seg;
  const bad = scopeProblem('bad-request-line', line);
  const at = (resourceType: string, interaction: FhirInteraction): FhirRequest => ({
    kind: 'interaction',
    resourceType,
    interaction,
  });
  if (a !== undefined && a !== '_history' && a !== '_search' && a !== 'metadata' && !TYPE.test(a)) return bad;
  if (b !== undefined && b !== '_history' && b !== '_search' && !ID.test(b)) return bad;
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      if (a === undefined) return at('*', 'search-system');
      if (a === 'metadata') return seg.length === 1 ? { kind: 'capabilities' } : bad;
      if (a === '_history') return seg.length === 1 ? at('*', 'history-system') : bad;
      if (a === '_search') return bad;
      if (b === undefined) return at(a, 'search-type');
      if (b === '_history') return seg.length === 2 ? at(a, 'history-type') : bad;
      if (b === '_search') return bad;
      if (c === undefined) return at(a, 'read');
      if (c === '_history') {
        if (d === undefined) return at(a, 'history-instance');
        return seg.length === 4 && ID.test(d) ? at(a, 'vread') : bad;
      }
      // Compartment search: [base]/[Compartment]/[id]/[type] or /* (FHIR R4 compartmentdefinition.html).
      if (seg.length === 3 && (c === '*' || TYPE.test(c))) return at(c, 'search-type');
      return bad;
    case 'POST':
      if (a === undefined) return { kind: 'bundle' };
      if (a === '_search') return seg.length === 1 ? at('*', 'search-system') : bad;
      if (a === '_history' || a === 'metadata') return bad;
      if (b === undefined) return at(a, 'create');
      return b === '_search' && seg.length === 2 ? at(a, 'search-type') : bad;
    case 'PUT':
    case 'PATCH':
    case 'DELETE': {
      const interaction =
        method.toUpperCase() === 'PUT' ? 'update' : method.toUpperCase() === 'PATCH' ? 'patch' : 'delete';
      if (a === undefined || a.startsWith('_') || a === 'metadata') return bad;
      // Conditional update/patch/delete: [type]?criteria (FHIR R4 http.html §3.1.0.4.3, §3.1.0.6.1, §3.1.0.7.1).
      if (b === undefined) return hasQuery ? at(a, interaction) : bad;
      return seg.length === 2 && !b.startsWith('_') ? at(a, interaction) : bad;
    }
    default:
      return bad;
  }
}
