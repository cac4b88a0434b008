import type { SqlExecutor } from './dialect/dialect.ts';

/**
 * A statement over many rows as multi-row `VALUES`, run in chunks of at most `max` rows (a power
 * of two). Chunks are powers of two too, so only a few statement texts exist, each prepared once
 * per connection; `sql` gets the `VALUES` list of `(?, …)` groups, `width` parameters each.
 */
export function multiRowStatement(
  sql: (values: string) => string,
  width: number,
  max: number,
): (tx: SqlExecutor, rows: readonly (readonly unknown[])[]) => Promise<void> {
  const one = `(${Array(width).fill('?').join(', ')})`;
  const texts = new Map<number, string>();
  const text = (n: number) => {
    let t = texts.get(n);
    if (t === undefined) {
      t = sql(Array(n).fill(one).join(', '));
      texts.set(n, t);
    }
    return t;
  };
  return async (tx, rows) => {
    let i = 0;
    while (i < rows.length) {
      let n = max;
      while (n > rows.length - i) n >>= 1;
      const params: unknown[] = [];
      for (const r of rows.slice(i, i + n)) params.push(...r);
      await tx.run(text(n), params);
      i += n;
    }
  };
}

/**
 * `keys` padded to the next power of two by repeating the last one, for an `IN (…)` list or OR-ed
 * key tuples: a look-up of n keys then uses one of a few statement texts, each prepared and planned
 * once per connection, instead of one text per list length. PostgreSQL keeps every prepared text
 * per connection, and dxhub names at most a fixed number of them: without padding, batches of every
 * size from 1 to 500 made hundreds of texts per statement (up to 132 after 2,000 HL7 messages).
 * A repeated key matches the same rows, so the result does not change.
 */
export function paddedKeys<T>(keys: readonly T[]): T[] {
  if (keys.length === 0) return [];
  let n = 1;
  while (n < keys.length) n <<= 1;
  const out = keys.slice();
  while (out.length < n) out.push(keys[keys.length - 1]!);
  return out;
}

/** `?,?,…` for `n` parameters. */
export const placeholders = (n: number): string => Array(n).fill('?').join(',');
