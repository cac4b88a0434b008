/**
 * Calls `visit` for every `reference` string in a FHIR JSON value (any depth, arrays included),
 * with the object that holds it, so that the caller may read or replace it in place. Synchronous:
 * a promise per JSON node made large Bundles slow.
 */
export function forEachReference(
  value: unknown,
  visit: (holder: Record<string, unknown>, reference: string) => void,
): void {
  if (Array.isArray(value)) {
    for (const x of value) if (x && typeof x === 'object') forEachReference(x, visit);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const x = obj[k];
    if (k === 'reference' && typeof x === 'string') visit(obj, x);
    else if (x && typeof x === 'object') forEachReference(x, visit);
  }
}
