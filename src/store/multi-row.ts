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
