import type { Dialect, SqlExecutor } from '../src/store/dialect/dialect.ts';

/** Statements sent to the database, by a short label (first words of the SQL, or the method). */
export class RoundTrips {
  readonly byLabel = new Map<string, number>();
  /** Wall milliseconds until each statement's answer, by label (overlapping statements both count). */
  readonly msByLabel = new Map<string, number>();
  total = 0;

  count(label: string): void {
    this.total++;
    this.byLabel.set(label, (this.byLabel.get(label) ?? 0) + 1);
  }

  /** Counts the statement and adds the time until `p` settles. */
  timed<T>(label: string, p: () => Promise<T>): Promise<T> {
    this.count(label);
    const t0 = performance.now();
    return p().finally(() => this.msByLabel.set(label, (this.msByLabel.get(label) ?? 0) + performance.now() - t0));
  }

  reset(): void {
    this.total = 0;
    this.byLabel.clear();
    this.msByLabel.clear();
  }

  /** The labels with count and milliseconds, most time first. */
  top(): [label: string, count: number, ms: number][] {
    return [...this.byLabel]
      .map(([l, n]) => [l, n, this.msByLabel.get(l) ?? 0] as [string, number, number])
      .sort((a, b) => b[2] - a[2]);
  }
}

const label = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 70);

function countingExecutor(tx: SqlExecutor, trips: RoundTrips): SqlExecutor {
  return {
    all: (sql, params, opts) => trips.timed(label(sql), () => tx.all(sql, params, opts)),
    run: (sql, params) => trips.timed(label(sql), () => tx.run(sql, params)),
    insertMany: (table, columns, types, rows, opts) =>
      rows.length > 0
        ? trips.timed(`insertMany ${table}`, () => tx.insertMany(table, columns, types, rows, opts))
        : tx.insertMany(table, columns, types, rows, opts),
    insertAll: (parts, opts) =>
      parts.some((p) => p.rows.length > 0) || opts?.lockFirst
        ? trips.timed(
            `insertAll ${parts
              .filter((p) => p.rows.length > 0)
              .map((p) => p.table)
              .join('+')}${opts?.lockFirst ? ' (lock)' : ''}`,
            () => tx.insertAll(parts, opts),
          )
        : tx.insertAll(parts, opts),
    deleteMany: (table, columns, types, rows) =>
      rows.length > 0
        ? trips.timed(`deleteMany ${table}`, () => tx.deleteMany(table, columns, types, rows))
        : tx.deleteMany(table, columns, types, rows),
    updateMany: (table, keyColumns, setColumns, types, rows) =>
      rows.length > 0
        ? trips.timed(`updateMany ${table}`, () => tx.updateMany(table, keyColumns, setColumns, types, rows))
        : tx.updateMany(table, keyColumns, setColumns, types, rows),
    lockMany: (keys) => (keys.length > 0 ? trips.timed('lockMany', () => tx.lockMany(keys)) : tx.lockMany(keys)),
    lock: (key) => trips.timed('lock', () => tx.lock(key)),
    nextResourceIds: (n) => trips.timed('nextResourceIds', () => tx.nextResourceIds(n)),
  };
}

/**
 * A {@link Dialect} that counts every statement it sends (BEGIN and COMMIT of a transaction count
 * as two). On PostgreSQL each statement is one network round trip, except that BEGIN travels with
 * the transaction's first statement (one round trip for both; postgres.ts); on SQLite a call into
 * the engine. Counts are independent of machine load, unlike wall time.
 */
export function countingDialect(db: Dialect, trips: RoundTrips): Dialect {
  const ex = countingExecutor(db, trips);
  return {
    ...ex,
    caps: db.caps,
    transaction: (fn) => {
      trips.count('BEGIN');
      return db.transaction(async (tx) => {
        const out = await fn(countingExecutor(tx, trips));
        trips.count('COMMIT');
        return out;
      });
    },
    insertManyDetached: (t, c, ty, rows) =>
      trips.timed('insertManyDetached', () => db.insertManyDetached(t, c, ty, rows)),
    execScript: (sql) => db.execScript(sql),
    ping: () => db.ping(),
    sizeBytes: () => db.sizeBytes(),
    close: () => db.close(),
  };
}
