import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDialect } from '../src/store/dialect/dialect.ts';

export type BenchDialect = 'sqlite' | 'postgres';

/** A fresh, empty database for one scenario and how to remove it. */
export interface BenchDatabase {
  readonly dialect: BenchDialect;
  /** `DXHUB_DB` URL for the server and for {@link openDialect}. */
  readonly url: string;
  drop(): Promise<void>;
}

/** The PostgreSQL server to use (a database the bench may create and drop schemas in). */
export const PG_URL = process.env.DXHUB_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const withParams = (url: string, params: string) => `${url}${url.includes('?') ? '&' : '?'}${params}`;

/**
 * SQLite: a file in a new temporary directory. PostgreSQL: a new schema `bench_<random>`
 * (dxhub's own `schema` URL parameter creates it), dropped with CASCADE afterwards.
 */
export async function freshDatabase(dialect: BenchDialect): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-bench-'));
    return {
      dialect,
      url: `sqlite:${join(dir, 'bench.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  return {
    dialect,
    url: withParams(PG_URL, `schema=${schema}`),
    async drop() {
      const d = await openDialect(withParams(PG_URL, 'pool=1'));
      try {
        await d.run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await d.close();
      }
    },
  };
}

/** Checks that PostgreSQL answers; the reason when it does not. */
export async function postgresProblem(): Promise<string | undefined> {
  try {
    const d = await openDialect(withParams(PG_URL, 'pool=1'));
    try {
      await d.ping();
    } finally {
      await d.close();
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
