import { searchParams } from '../core/fhir/search-parameters.ts';
import type { SearchRestriction } from '../core/security/smart-scopes.ts';

type Coding = { system?: string; code?: string };

/** The codings of a token search parameter's values (Coding, CodeableConcept, Identifier, code). */
function codings(v: unknown): Coding[] {
  if (typeof v === 'string') return [{ code: v }];
  if (!v || typeof v !== 'object') return [];
  const o = v as { coding?: Coding[]; system?: string; code?: string; value?: string };
  if (Array.isArray(o.coding)) return o.coding;
  if (o.code !== undefined) return [{ system: o.system, code: o.code }];
  if (o.value !== undefined) return [{ system: o.system, code: o.value }];
  return [];
}

/**
 * True when `resource` matches every restriction of a SMART v2 scope (`patient/Observation.rs?category=
 * http://terminology.hl7.org/CodeSystem/observation-category|laboratory`). Token parameters only,
 * `system|code`, `|code` or `code`, comma = any of; a restriction on any other kind of parameter does
 * not match (fails closed).
 */
export function matchesRestrictions(
  resource: { resourceType: string },
  restrictions: readonly SearchRestriction[],
): boolean {
  const defs = searchParams(resource.resourceType);
  return restrictions.every((r) => {
    const def = defs.get(r.name);
    if (def?.type !== 'token') return false;
    const found = def.extract(resource).flatMap((item) => codings(item.v));
    return r.value.split(',').some((want) => {
      const bar = want.indexOf('|');
      const system = bar < 0 ? undefined : want.slice(0, bar);
      const code = bar < 0 ? want : want.slice(bar + 1);
      return found.some(
        (c) => c.code === code && (system === undefined || (system === '' ? !c.system : c.system === system)),
      );
    });
  });
}
