import { createHash } from 'node:crypto';

const cache = new Map<string, number>([['', 0]]);

/**
 * The integer stored in place of a code system URI (or, in composite rows, a reference type) in
 * the search index: the first 48 bits of its SHA-1, so 0 means "no system". Index rows stay small
 * and compare as integers; the mapping is stable across processes and versions because it is a
 * pure function (a collision between two real systems, ~1 in 10^14 for a thousand systems, would
 * only merge their codes in search). There are few distinct systems, so results are cached.
 */
export function systemKey(system: string): number {
  let k = cache.get(system);
  if (k === undefined) {
    k = createHash('sha1').update(system).digest().readUIntBE(0, 6);
    if (k === 0) k = 1;
    if (cache.size < 100_000) cache.set(system, k);
  }
  return k;
}
