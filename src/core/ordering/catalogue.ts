import { CATALOGUE, NPU, ORDER_SETS } from './seed/catalogue.ts';
import type { CatalogueItem, OrderSet } from './types.ts';

/** NPU's OID is the same code system as its URI (identity research §3.1). */
const SYSTEM_ALIASES: Readonly<Record<string, string>> = { 'urn:oid:1.2.208.176.2.1': NPU };

/** Lower case, Danish letters spelled out, other accents dropped: "Sænkning" → "saenkning". */
export function normaliseText(s: string): string {
  return s
    .toLowerCase()
    .replaceAll('æ', 'ae')
    .replaceAll('ø', 'oe')
    .replaceAll('å', 'aa')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

const WORD_SPLIT = /[\s()\-/,]+/;

export interface CatalogueHit {
  readonly kind: 'item' | 'order-set';
  readonly id: string;
  readonly score: number;
}

/** The catalogue indexed for look-up by id, by code and by words (Danish, English, synonyms). */
export interface Catalogue {
  readonly items: readonly CatalogueItem[];
  readonly orderSets: readonly OrderSet[];
  item(id: string): CatalogueItem | undefined;
  orderSet(id: string): OrderSet | undefined;
  /** The item a coding names (primary code or alias); undefined for an unknown code. */
  byCoding(system: string | undefined, code: string | undefined): CatalogueItem | undefined;
  search(query: string, limit?: number): CatalogueHit[];
}

/** Builds the look-up structures once (the catalogue is data; rebuilding is cheap). */
export function buildCatalogue(
  items: readonly CatalogueItem[] = CATALOGUE,
  orderSets: readonly OrderSet[] = ORDER_SETS,
): Catalogue {
  const byId = new Map(items.map((i) => [i.id, i]));
  const sets = new Map(orderSets.map((s) => [s.id, s]));
  const byCode = new Map<string, CatalogueItem>();
  for (const i of items) for (const c of [i.code, ...(i.aliases ?? [])]) byCode.set(`${c.system}|${c.code}`, i);
  const words = (texts: readonly string[]) => texts.map(normaliseText);
  const entries = [
    ...items.map((i) => ({
      kind: 'item' as const,
      id: i.id,
      codes: [i.code.code, ...(i.aliases ?? []).map((a) => a.code)].map(normaliseText),
      terms: words([i.id, i.title.da, i.title.en, ...i.synonyms]),
    })),
    ...orderSets.map((s) => ({
      kind: 'order-set' as const,
      id: s.id,
      codes: [] as string[],
      terms: words([s.id, s.title.da, s.title.en, ...s.synonyms]),
    })),
  ];
  return {
    items,
    orderSets,
    item: (id) => byId.get(id),
    orderSet: (id) => sets.get(id),
    byCoding(system, code) {
      if (!system || !code) return undefined;
      return byCode.get(`${SYSTEM_ALIASES[system] ?? system}|${code}`);
    },
    search(query, limit = 20) {
      const q = normaliseText(query.trim());
      if (!q) return entries.slice(0, limit).map((e) => ({ kind: e.kind, id: e.id, score: 0 }));
      const qWords = q.split(WORD_SPLIT).filter(Boolean);
      const hits: CatalogueHit[] = [];
      for (const e of entries) {
        let score = 0;
        if (e.codes.includes(q)) score = 100;
        for (const t of e.terms) {
          if (t === q) score = Math.max(score, 90);
          else if (t.startsWith(q)) score = Math.max(score, 70);
          else if (t.split(WORD_SPLIT).some((w) => w.startsWith(q))) score = Math.max(score, 50);
          else if (t.includes(q)) score = Math.max(score, 30);
        }
        // Several words ("back MRI"): every word must start a word of some term.
        if (score === 0 && qWords.length > 1) {
          const termWords = e.terms.flatMap((t) => t.split(WORD_SPLIT));
          if (qWords.every((w) => termWords.some((t) => t.startsWith(w)))) score = 40;
        }
        if (score > 0) hits.push({ kind: e.kind, id: e.id, score });
      }
      return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, limit);
    },
  };
}
