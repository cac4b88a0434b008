import assert from 'node:assert/strict';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { getValidator } from '../../fhir/validator/index.ts';
import { HL7V2_SOURCE_EXTENSION } from './mapping-context.ts';

/**
 * Test support: asserts that a mapped Bundle is a usable transaction. Every entry has a fullUrl,
 * a resource and request.method/url (POST with ifNoneExist, or a conditional PUT on its own type);
 * conditional queries are unique per type; every `reference` resolves to an entry's fullUrl or is
 * conditional; every resource names its source message; and the R4 validator reports no errors.
 */
export function assertValidTransaction(bundle: Bundle, controlId: string, label = ''): void {
  assert.equal(bundle.resourceType, 'Bundle', label);
  assert.equal(bundle.type, 'transaction', label);
  const entries = bundle.entry ?? [];
  assert.ok(entries.length > 0, `${label}: empty bundle`);
  const fullUrls = new Set<string>();
  const queries = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const at = `${label} entry[${i}]`;
    const r = e.resource as Resource;
    assert.ok(e.fullUrl?.startsWith('urn:uuid:'), `${at} fullUrl`);
    assert.ok(!fullUrls.has(e.fullUrl as string), `${at} duplicate fullUrl`);
    fullUrls.add(e.fullUrl as string);
    assert.ok(r?.resourceType, `${at} resource`);
    const method = e.request?.method;
    const url = e.request?.url ?? '';
    if (method === 'POST') {
      assert.equal(url, r.resourceType, `${at} POST url`);
      assert.match(e.request?.ifNoneExist ?? '', /^[a-z-]+=\S+\|\S+$/, `${at} ifNoneExist`);
      queries.add(`${r.resourceType}?${e.request?.ifNoneExist}`);
    } else if (method === 'PUT') {
      assert.ok(url.startsWith(`${r.resourceType}?identifier=`), `${at} PUT url ${url}`);
      queries.add(url);
    } else {
      assert.fail(`${at} request.method ${method}`);
    }
    const source = (
      r as { extension?: { url: string; extension?: { url: string; valueString?: string }[] }[] }
    ).extension?.find((x) => x.url === HL7V2_SOURCE_EXTENSION);
    assert.equal(
      source?.extension?.find((x) => x.url === 'messageControlId')?.valueString,
      controlId,
      `${at} source extension`,
    );
  }
  assert.equal(queries.size, entries.length, `${label}: two entries share a conditional query`);
  for (const ref of references(bundle)) {
    assert.ok(fullUrls.has(ref) || /^[A-Z][A-Za-z]+\?/.test(ref), `${label}: reference ${ref} does not resolve`);
  }
  const errors = getValidator()
    .validate(bundle)
    .filter((i) => i.severity === 'error');
  assert.deepEqual(errors, [], `${label}: validator errors`);
}

/** Every `reference` string inside the entries' resources. */
export function references(bundle: Bundle): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'reference' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  for (const e of bundle.entry ?? []) walk(e.resource);
  return out;
}

/** The resources of one type in a Bundle, in entry order. */
export function resourcesOf<T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((e) => e.resource as Resource).filter((r): r is T => r?.resourceType === type);
}

/** The entry of a resource. */
export function entryOf(bundle: Bundle, resource: Resource) {
  const e = (bundle.entry ?? []).find((x) => x.resource === resource);
  assert.ok(e, 'entry of resource');
  return e;
}
