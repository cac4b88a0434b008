import { type Dialect, openDialect } from '../src/store/dialect/dialect.ts';
import { PgMaintenance } from '../src/store/dialect/pg-maintenance.ts';
import { FhirRepository, type Resource } from '../src/store/repository.ts';
import { ANALYSES, observation, patient, rng } from './lab-data.ts';

/** Results per analysis per patient (one per visit): 20 analyses × 5 visits = 100 Observations. */
export const VISITS = 5;
const PER_PATIENT = ANALYSES.length * VISITS;
const BATCH = 500;
const DAY = 86_400_000;
const START = Date.UTC(2023, 0, 2);

/** What a pre-load wrote. */
export interface Preloaded {
  readonly patientIds: string[];
  /** Observation ids, when asked for (`keepIds`). */
  readonly observationIds: string[];
  readonly observations: number;
  /** Sum of the stored JSON of the Observations, in UTF-8 bytes. */
  readonly observationJsonBytes: number;
  readonly seconds: number;
  /** Database size after the load (SQLite: file size after a WAL checkpoint). */
  readonly sizeBytes: number;
  /** Bytes per table and index, largest first. */
  readonly tableBytes: Record<string, number>;
}

/** Bytes per table and index: SQLite's `dbstat`, PostgreSQL's `pg_total_relation_size` per table. */
async function tableBytes(db: Dialect): Promise<Record<string, number>> {
  const rows =
    db.caps.name === 'sqlite'
      ? await db.all<{ name: string; bytes: number }>(
          'SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC',
        )
      : await db.all<{ name: string; bytes: number }>(
          `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY bytes DESC`,
        );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
}

/**
 * Loads `observations` lab results for `observations / 100` patients (or `patients`) through the repository API
 * (500 writes per transaction), before any server runs on the database. Results arrive as real
 * ones do: visit by visit across all patients, a 20-analysis panel per patient and visit, so that
 * one patient's rows are spread over the whole table.
 */
export async function preload(
  dbUrl: string,
  opts: { observations: number; patients?: number; keepIds?: boolean; log?: (msg: string) => void },
): Promise<Preloaded> {
  const t0 = performance.now();
  const repo = await FhirRepository.open(await openDialect(dbUrl));
  // PostgreSQL round trips overlap across a few connections; SQLite serialises writers anyway.
  const parallel = repo.db.caps.name === 'postgres' ? 3 : 1;
  const random = rng(42);
  const nPatients = opts.patients ?? Math.max(1, Math.ceil(opts.observations / PER_PATIENT));
  const patientIds: string[] = [];
  const observationIds: string[] = [];
  let jsonBytes = 0;
  let written = 0;
  let lastLog = performance.now();

  const writeAll = async (resources: Iterable<Resource>, onWrite: (id: string, json: string) => void) => {
    const inFlight = new Set<Promise<void>>();
    let batch: Resource[] = [];
    const flush = async () => {
      const rs = batch;
      batch = [];
      const p = repo
        .transaction(async (w) => {
          for (const r of rs) {
            const res = await repo.put(w, r);
            onWrite(res.id, res.json!);
          }
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= parallel) await Promise.race(inFlight);
    };
    for (const r of resources) {
      batch.push(r);
      if (batch.length === BATCH) await flush();
    }
    if (batch.length) await flush();
    await Promise.all(inFlight);
  };

  try {
    await writeAll(
      (function* () {
        for (let p = 0; p < nPatients; p++) yield patient(p + 1);
      })(),
      (id) => patientIds.push(id),
    );

    function* observations(): Generator<Resource> {
      let n = 0;
      for (let visit = 0; visit < VISITS; visit++) {
        const order = shuffled(nPatients, random);
        for (const p of order) {
          const at =
            START + visit * 73 * DAY + Math.floor(random() * 60) * DAY + (7 + Math.floor(random() * 8)) * 3_600_000;
          for (const analysis of ANALYSES) {
            if (n >= opts.observations) return;
            n++;
            yield observation({
              analysis,
              patientId: patientIds[p]!,
              at,
              random,
              accession: `L${String(n).padStart(10, '0')}`,
            });
          }
        }
      }
    }
    await writeAll(observations(), (id, json) => {
      written++;
      jsonBytes += Buffer.byteLength(json);
      if (opts.keepIds) observationIds.push(id);
      if (opts.log && performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        const s = (lastLog - t0) / 1000;
        opts.log(`  pre-load: ${written.toLocaleString('en')} Observations in ${s.toFixed(0)} s`);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    if (repo.db.caps.name === 'postgres') {
      // Autovacuum would analyse the freshly loaded tables within minutes; a server measured right
      // after a bulk load would otherwise plan with empty statistics. SQLite has no automatic
      // ANALYZE and dxhub runs none, so its state after the load is left as production would see it.
      const tables = await repo.db.all<{ t: string }>(
        'SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()',
      );
      await repo.db.run(`ANALYZE ${tables.map((r) => r.t).join(', ')}`);
      // And vacuum them, as autovacuum would after a bulk load (visibility map, no dead rows): the
      // server's own maintenance (pg-maintenance.ts, while autovacuum is off) would otherwise do it
      // in its first pass, in the middle of the measured requests.
      const maintenance = new PgMaintenance(dbUrl, { mode: 'on' });
      try {
        await maintenance.runOnce();
      } finally {
        await maintenance.close();
      }
    }
    const sizeBytes = await repo.db.sizeBytes();
    return {
      patientIds,
      observationIds,
      observations: written,
      observationJsonBytes: jsonBytes,
      seconds,
      sizeBytes,
      tableBytes: opts.observations >= 1000 ? await tableBytes(repo.db) : {},
    };
  } finally {
    await repo.close();
  }
}

/** 0…n-1 in a random order (Fisher–Yates). */
function shuffled(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
