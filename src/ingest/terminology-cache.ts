import type { ConceptMap } from '@medplum/fhirtypes';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { ConceptMapIndex } from '../core/terminology/index.ts';
import type { FhirRepository } from '../store/repository.ts';

/** Options of {@link ConceptMapCache}. */
export interface ConceptMapCacheOptions {
  /**
   * Longest time (ms) an index is used without reloading all ConceptMaps, default 5 minutes: a
   * backstop for changes the cheap check below cannot see.
   */
  readonly maxAgeMs?: number;
  /** Shortest time (ms) between two checks of the store for changed ConceptMaps; default 0 (every use). */
  readonly checkEveryMs?: number;
}

/**
 * The ConceptMaps stored in the FHIR store, indexed for the HL7 processor. Before each use the store is
 * asked one cheap question — how many ConceptMaps there are and which was written last (id, version,
 * time) — and the maps are reloaded when the answer changed, so a map written with
 * `PUT /fhir/ConceptMap/<id>` (or deleted) applies to the next message processed; and at the latest
 * after `maxAgeMs`. {@link invalidate} forces a reload.
 */
export class ConceptMapCache {
  readonly #repo: FhirRepository;
  readonly #maxAgeMs: number;
  readonly #checkEveryMs: number;
  #index: ConceptMapIndex | undefined;
  #stamp = '';
  #loadedAt = 0;
  #checkedAt = 0;
  #pending: Promise<ConceptMapIndex> | undefined;

  constructor(repo: FhirRepository, options: ConceptMapCacheOptions = {}) {
    this.#repo = repo;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#checkEveryMs = options.checkEveryMs ?? 0;
  }

  /** The current index (loading or reloading the maps when they changed). */
  index(): Promise<ConceptMapIndex> {
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Reload at the next use. */
  invalidate(): void {
    this.#index = undefined;
  }

  async #refresh(): Promise<ConceptMapIndex> {
    const now = this.#repo.clock.now();
    if (this.#index && now - this.#loadedAt < this.#maxAgeMs && now - this.#checkedAt < this.#checkEveryMs) {
      return this.#index;
    }
    const stamp = await this.#currentStamp();
    this.#checkedAt = now;
    if (this.#index && stamp === this.#stamp && now - this.#loadedAt < this.#maxAgeMs) return this.#index;
    this.#index = ConceptMapIndex.from(await this.#loadAll());
    this.#stamp = stamp;
    this.#loadedAt = now;
    return this.#index;
  }

  /** Count of ConceptMaps and the start of the newest one's JSON (resourceType, id, meta come first). */
  async #currentStamp(): Promise<string> {
    const req = parseSearchRequest('ConceptMap', [
      ['_sort', '-_lastUpdated'],
      ['_count', '1'],
      ['_total', 'accurate'],
    ]);
    const page = await this.#repo.search(req);
    return `${page.total ?? '?'}|${page.matches[0]?.json.slice(0, 200) ?? ''}`;
  }

  async #loadAll(): Promise<ConceptMap[]> {
    const maps: ConceptMap[] = [];
    const req = parseSearchRequest('ConceptMap', [
      ['_sort', '_id'],
      ['_count', '1000'],
    ]);
    for (;;) {
      const page = await this.#repo.search(req);
      for (const m of page.matches) maps.push(JSON.parse(m.json) as ConceptMap);
      if (!page.hasNext || page.matches.length === 0) return maps;
      req.snapshot = page.snapshot;
      req.offset += page.matches.length;
    }
  }
}
