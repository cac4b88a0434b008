import { randomBytes } from 'node:crypto';
import { openDialect } from '../../src/store/dialect/dialect.ts';
import { type Clock, FhirRepository } from '../../src/store/repository.ts';

/**
 * Which databases the store contract suite runs on: `DXHUB_TEST_DIALECTS=sqlite,postgres`
 * (CI sets both). Unset: SQLite always, PostgreSQL when it answers at DXHUB_TEST_PG_URL
 * (default postgres://postgres@127.0.0.1:5432/test); when it does not, the reason is printed.
 */
export const PG_URL = process.env.DXHUB_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgAvailable: Promise<boolean> | undefined;
async function postgresAnswers(): Promise<boolean> {
  pgAvailable ??= (async () => {
    try {
      const d = await openDialect(`${PG_URL}${PG_URL.includes('?') ? '&' : '?'}pool=1`);
      await d.ping();
      await d.close();
      return true;
    } catch (e) {
      process.stdout.write(
        `# PostgreSQL at ${PG_URL} is not reachable (${(e as Error).message}): PostgreSQL runs skipped\n`,
      );
      return false;
    }
  })();
  return pgAvailable;
}

/** The dialects to test, resolved once per process. */
export async function testDialects(): Promise<('sqlite' | 'postgres')[]> {
  const env = process.env.DXHUB_TEST_DIALECTS;
  if (env) return env.split(',').map((s) => s.trim()) as ('sqlite' | 'postgres')[];
  return (await postgresAnswers()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A database URL of a fresh, empty database for one test: in-memory SQLite or a new PostgreSQL schema. */
export function freshDbUrl(dialect: 'sqlite' | 'postgres', file?: string): string {
  if (dialect === 'sqlite') return `sqlite:${file ?? ':memory:'}`;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}&pool=12`;
}

/** Opens a repository on a fresh database of the dialect. */
export async function freshRepo(dialect: 'sqlite' | 'postgres', clock?: Clock): Promise<FhirRepository> {
  return FhirRepository.open(await openDialect(freshDbUrl(dialect)), clock);
}

/** Drops the schemas that tests created (PostgreSQL); called by the test runner script at the end. */
export async function dropTestSchemas(): Promise<void> {
  const d = await openDialect(PG_URL);
  const rows = await d.all<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'");
  for (const r of rows) await d.run(`DROP SCHEMA IF EXISTS ${r.nspname} CASCADE`);
  await d.close();
}
