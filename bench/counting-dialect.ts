import type { Dialect, SqlExecutor } from '../src/store/dialect/dialect.ts';

/** Statements sent to the database, by a short label (first words of the SQL, or the method). */
export class RoundTrips {
  readonly byLabel = new Map<string, number>();
  total = 0;

  count(label: string): void {
    this.total++;
    this.byLabel.set(label, (this.byLabel.get(label) ?? 0) + 1);
  }

  reset(): void {
    this.total = 0;
    this.byLabel.clear();
  }

  /** The labels, most frequent first. */
  top(): [string, number][] {
    return [...this.byLabel].sort((a, b) => b[1] - a[1]);
  }
}

const label = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 70);

function countingExecutor(tx: SqlExecutor, trips: RoundTrips): SqlExecutor {
  return {
    all: (sql, params) => {
      trips.count(label(sql));
      return tx.all(sql, params);
    },
    run: (sql, params) => {
      trips.count(label(sql));
      return tx.run(sql, params);
    },
    insertMany: (table, columns, types, rows) => {
      if (rows.length > 0) trips.count(`insertMany ${table}`);
      return tx.insertMany(table, columns, types, rows);
    },
    deleteMany: (table, columns, types, rows) => {
      if (rows.length > 0) trips.count(`deleteMany ${table}`);
      return tx.deleteMany(table, columns, types, rows);
    },
    updateMany: (table, keyColumns, setColumns, types, rows) => {
      if (rows.length > 0) trips.count(`updateMany ${table}`);
      return tx.updateMany(table, keyColumns, setColumns, types, rows);
    },
    lockMany: (keys) => {
      if (keys.length > 0) trips.count('lockMany');
      return tx.lockMany(keys);
    },
    lock: (key) => {
      trips.count('lock');
      return tx.lock(key);
    },
    nextResourceIds: (n) => {
      trips.count('nextResourceIds');
      return tx.nextResourceIds(n);
    },
  };
}

/**
 * A {@link Dialect} that counts every statement it sends (BEGIN and COMMIT of a transaction count
 * as two). On PostgreSQL each statement is one network round trip; on SQLite a call into the
 * engine. Counts are independent of machine load, unlike wall time.
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
    execScript: (sql) => db.execScript(sql),
    ping: () => db.ping(),
    sizeBytes: () => db.sizeBytes(),
    close: () => db.close(),
  };
}
