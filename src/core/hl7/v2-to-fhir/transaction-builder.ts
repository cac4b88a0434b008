import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';

/**
 * How an entry is written: a conditional create (`POST` + `ifNoneExist`, for resources another
 * system owns, e.g. the Patient referenced by a lab result) or a conditional update (`PUT
 * Type?query`, for resources this message is the source of, so a resend or correction updates the
 * same resource; FHIR R4 http.html §3.1.0.4.3 and §3.1.0.8.1).
 */
export type EntryRequest =
  | { readonly method: 'POST'; readonly ifNoneExist: string }
  | { readonly method: 'PUT'; readonly query: string };

/**
 * Collects the entries of one transaction Bundle. Entries get deterministic `urn:uuid:` fullUrls
 * (a name-based UUID of the message and the entry's conditional query), so the same message always
 * gives the same Bundle and resources reference each other by fullUrl (FHIR R4 bundle.html §2.36.4.1).
 */
export class TransactionBuilder {
  readonly #seed: string;
  readonly #entries: BundleEntry[] = [];
  readonly #byKey = new Map<string, string>();

  constructor(seed: string) {
    this.#seed = seed;
  }

  /**
   * Adds a resource and returns its fullUrl. A second resource with the same type and conditional
   * query is not added: the first one's fullUrl is returned (`added: false`), since two entries
   * matching the same resource would make the transaction fail or duplicate it.
   */
  add(resource: Resource, request: EntryRequest): { fullUrl: string; added: boolean } {
    const query = request.method === 'POST' ? request.ifNoneExist : request.query;
    const key = `${resource.resourceType}?${query}`;
    const existing = this.#byKey.get(key);
    if (existing) return { fullUrl: existing, added: false };
    const fullUrl = this.urlFor(resource.resourceType, query);
    this.#byKey.set(key, fullUrl);
    this.#entries.push({
      fullUrl,
      resource,
      request:
        request.method === 'POST'
          ? { method: 'POST', url: resource.resourceType, ifNoneExist: request.ifNoneExist }
          : { method: 'PUT', url: key },
    });
    return { fullUrl, added: true };
  }

  /**
   * The fullUrl an entry of this type and conditional query has or will have; lets two resources
   * that reference each other (ServiceRequest ↔ Specimen) be built in either order.
   */
  urlFor(resourceType: string, query: string): string {
    return `urn:uuid:${nameBasedUuid(`${this.#seed}\n${resourceType}?${query}`)}`;
  }

  /** The transaction Bundle (entries in the order they were added). */
  build(): Bundle {
    return { resourceType: 'Bundle', type: 'transaction', entry: [...this.#entries] };
  }
}

/** A version-5-style UUID (SHA-1 of the name, RFC 9562 §5.5 bit layout) without a namespace. */
function nameBasedUuid(name: string): string {
  const b = createHash('sha1').update(name).digest();
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
