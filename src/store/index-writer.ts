import type { IndexRows } from '../core/fhir/index-rows.ts';
import { systemKey } from '../core/fhir/system-key.ts';
import type { ColumnType, SqlExecutor, TableRows } from './dialect/dialect.ts';
import type { PidLookup } from './search-sql.ts';

/** Table layout of each index kind: columns after `pid`, ending with `rid`. */
export const INDEX_TABLES: Record<keyof IndexRows, { table: string; columns: string[]; types: ColumnType[] }> = {
  token: { table: 'idx_token', columns: ['pid', 'system', 'code', 'rid'], types: ['int', 'bigint', 'text', 'bigint'] },
  string: { table: 'idx_string', columns: ['pid', 'norm', 'raw', 'rid'], types: ['int', 'text', 'text', 'bigint'] },
  date: { table: 'idx_date', columns: ['pid', 'lo', 'hi', 'rid'], types: ['int', 'bigint', 'bigint', 'bigint'] },
  number: { table: 'idx_number', columns: ['pid', 'value', 'rid'], types: ['int', 'double', 'bigint'] },
  quantity: {
    table: 'idx_quantity',
    columns: ['pid', 'system', 'code', 'lo', 'hi', 'rid'],
    types: ['int', 'bigint', 'text', 'double', 'double', 'bigint'],
  },
  reference: {
    table: 'idx_reference',
    columns: ['pid', 'ref_type', 'ref_id', 'rid'],
    types: ['int', 'text', 'text', 'bigint'],
  },
  composite: {
    table: 'idx_composite',
    columns: ['pid', 'a_system', 'a_code', 'b_system', 'b_code', 'b_lo', 'b_hi', 'b_text', 'rid'],
    types: ['int', 'bigint', 'text', 'bigint', 'text', 'double', 'double', 'text', 'bigint'],
  },
};

const KINDS = Object.keys(INDEX_TABLES) as (keyof IndexRows)[];
/** Positions (in IndexRows tuples) of system URIs, stored as {@link systemKey} integers. */
const SYSTEM_COLUMNS: Partial<Record<keyof IndexRows, number[]>> = { token: [1], quantity: [1], composite: [1, 3] };
const key = (r: readonly unknown[]) => r.join('\u0000');

/**
 * Buffers index row inserts and deletes of one transaction and writes them table by table
 * (one statement per table on PostgreSQL). Infinite bounds (open Range) are stored as ±1e308.
 */
export class IndexWriter {
  private readonly inserts = new Map<keyof IndexRows, unknown[][]>();
  private readonly deletes = new Map<keyof IndexRows, unknown[][]>();
  private readonly pid: PidLookup;
  constructor(pid: PidLookup) {
    this.pid = pid;
  }

  /** Queues the rows of `next` that `prev` lacks for insert, and those `prev` has but `next` lacks for delete. */
  queue(type: string, rid: number, prev: IndexRows | undefined, next: IndexRows | undefined): void {
    for (const kind of KINDS) {
      const after = next ? next[kind].map((r) => this.row(kind, type, rid, r)) : [];
      if (!prev) {
        // A new resource: nothing to diff; repeated rows are ignored by ON CONFLICT DO NOTHING.
        if (after.length) push(this.inserts, kind, after);
        continue;
      }
      const before = prev[kind].map((r) => this.row(kind, type, rid, r));
      if (before.length === 0 && after.length === 0) continue;
      const beforeKeys = new Set(before.map(key));
      const afterKeys = new Set(after.map(key));
      const ins = after.filter((r) => !beforeKeys.has(key(r)));
      const del = before.filter((r) => {
        const k = key(r);
        if (afterKeys.has(k)) return false;
        afterKeys.add(k); // delete each vanished row once
        return true;
      });
      if (ins.length) push(this.inserts, kind, ins);
      if (del.length) push(this.deletes, kind, del);
    }
  }

  private row(kind: keyof IndexRows, type: string, rid: number, r: readonly unknown[]): unknown[] {
    const out: unknown[] = [this.pid(type, r[0] as string)];
    const keyed = SYSTEM_COLUMNS[kind];
    for (let i = 1; i < r.length; i++) {
      const v = r[i];
      if (keyed?.includes(i)) out.push(systemKey(v as string));
      else out.push(v === Infinity ? 1e308 : v === -Infinity ? -1e308 : v);
    }
    out.push(rid);
    return out;
  }

  /**
   * Writes what is queued: deletes first, then the inserts in one statement where possible, with
   * `extra` rows of other tables in the same statement (PostgreSQL: one round trip for all).
   */
  async flush(
    tx: SqlExecutor,
    extra: readonly TableRows[] = [],
    last: { readonly rows: readonly TableRows[]; readonly lockFirst: string } | undefined = undefined,
  ): Promise<void> {
    const { deletes, inserts } = this.take();
    for (const d of deletes) await tx.deleteMany(d.table, d.columns, d.types, d.rows);
    await tx.insertAll([...extra, ...inserts, ...(last?.rows ?? [])], { lockFirst: last?.lockFirst });
  }

  /** Index rows queued for insertion (not deletion). */
  get queuedRows(): number {
    let n = 0;
    for (const rows of this.inserts.values()) n += rows.length;
    return n;
  }

  /** Takes what is queued (the caller writes it: the deletes before the inserts). */
  take(): { deletes: TableRows[]; inserts: TableRows[] } {
    // In the tables' fixed order: the combined statement's text (a prepared statement on
    // PostgreSQL) then depends on which tables have rows, not on the order they were first seen.
    const parts = (m: Map<keyof IndexRows, unknown[][]>): TableRows[] =>
      KINDS.filter((kind) => m.has(kind)).map((kind) => {
        const t = INDEX_TABLES[kind];
        return { table: t.table, columns: t.columns, types: t.types, rows: m.get(kind)! };
      });
    const out = { deletes: parts(this.deletes), inserts: parts(this.inserts) };
    this.deletes.clear();
    this.inserts.clear();
    return out;
  }
}

function push(map: Map<string, unknown[][]>, kind: string, rows: unknown[][]): void {
  const list = map.get(kind);
  if (list) list.push(...rows);
  else map.set(kind, rows);
}
