/**
 * Audit log append throughput, SQLite and PostgreSQL side by side (target: ≥ 20,000 events/s).
 *
 *   npx node bench/audit-append.ts [--events 100000] [--dialect sqlite|postgres]
 *
 * - `record ×N`: N concurrent "request handlers", each awaiting `AuditLog.record` for one read
 *   audit before sending the next (closed loop; the promise resolves after the commit).
 *   `, until chained`: the same run timed until every entry is in the hash chain (differs where
 *   entries are staged first, as on PostgreSQL, and moved into the chain afterwards).
 * - `journal record ×N`: the same through the read-audit journal as `dxhub serve` sets it up
 *   (SQLite: written, not flushed; PostgreSQL: flushed to the disk before `record` resolves, one
 *   flush at a time), `, until chained` once this thread moved it into the hash chain.
 * - `append 500`: `AuditLog.append` of 500 entries per transaction, one after the other.
 * - `journal move ×N` (SQLite): read audits journalled first, then moved into the hash chain N per
 *   transaction, as the journal mover thread does (entries/s, and CPU µs per entry).
 * - `verify`: `verifyAuditChain` over everything written (rows/s).
 * Each dialect gets a fresh database (bench/databases.ts); a benchmark, not a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditJournal } from '../src/audit/audit-journal.ts';
import { AuditLog } from '../src/audit/audit-log.ts';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import { auditFields } from '../src/core/audit/audit-chain.ts';
import type { AuditEntry } from '../src/core/audit/audit-entry.ts';
import { type Dialect, openDialect } from '../src/store/dialect/dialect.ts';
import { type BenchDialect, freshDatabase, postgresProblem } from './databases.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '100000' }, dialect: { type: 'string' } },
});
const EVENTS = Number(values.events);

function entry(i: number): AuditEntry {
  return {
    action: 'read',
    agent: `user-${i % 500}`,
    agentName: 'Dr. Test',
    organisation: '123456789012345',
    role: 'doctor',
    purpose: 'TREAT',
    sourceIp: '10.1.2.3',
    client: 'epj',
    patient: `pat-${i % 20_000}`,
    resource: `Observation/obs-${i}`,
    requestId: `req-${i}`,
  };
}

/**
 * `record` in a closed loop: events/s until every `record` resolved (durable: chained, journalled
 * or staged), and until all of them are in the hash chain (`flushed`; the same figure where
 * `record` chains at once).
 */
async function closedLoop(log: AuditLog, workers: number, total: number): Promise<[number, number]> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) await log.record(entry(next++));
    }),
  );
  const durable = total / ((performance.now() - start) / 1000);
  await log.flushed();
  return [durable, total / ((performance.now() - start) / 1000)];
}

async function bulk(log: AuditLog, total: number, size: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < total; i += size) {
    await log.append(Array.from({ length: Math.min(size, total - i) }, (_, k) => entry(i + k)));
  }
  return total / ((performance.now() - start) / 1000);
}

/**
 * SQLite's read-audit journal: `total` entries journalled, then moved into the hash chain with
 * `batch` entries per transaction (the journal mover thread's work). Entries/s and this process's
 * CPU per entry (the move runs on this thread here).
 */
async function journalMove(db: Dialect, batch: number, total: number): Promise<[number, number]> {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-bench-journal-'));
  try {
    const journal = new AuditJournal(dir);
    const at = Date.now();
    for (let i = 0; i < total; i += 500) {
      journal.append(
        Array.from({ length: Math.min(500, total - i) }, (_, k) =>
          auditFields(entry(i + k), at, { observer: 'dxhub-bench' }),
        ),
      );
    }
    journal.close();
    const log = new AuditLog(db, { journal: new AuditJournal(dir), moveBatch: batch, drainIntervalMs: 3_600_000 });
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    await log.drainJournal();
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await log.close();
    return [total / seconds, (cpu.user + cpu.system) / total];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(dialect: BenchDialect): Promise<Record<string, number>> {
  const database = await freshDatabase(dialect);
  const db = await openDialect(database.url);
  try {
    const log = await AuditLog.open(db, { source: { observer: 'dxhub-bench' } });
    const figures: Record<string, number> = {};
    for (const workers of [64, 512, 4096]) {
      const [durable, chained] = await closedLoop(log, workers, EVENTS);
      figures[`record ×${workers}`] = durable;
      figures[`record ×${workers}, until chained`] = chained;
    }
    // As `dxhub serve` writes read audits (src/server/app.ts): through the journal.
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-bench-journal-'));
    try {
      const journalled = await AuditLog.open(db, {
        source: { observer: 'dxhub-bench' },
        journal: new AuditJournal(dir, { sync: dialect === 'postgres' }),
        drainIntervalMs: 3_600_000,
      });
      for (const workers of [64, 512]) {
        const [durable, chained] = await closedLoop(journalled, workers, EVENTS);
        figures[`journal record ×${workers}`] = durable;
        figures[`journal record ×${workers}, until chained`] = chained;
      }
      await journalled.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    figures['append 500'] = await bulk(log, EVENTS, 500);
    if (dialect === 'sqlite') {
      for (const batch of [256, 1024]) {
        const [rate, cpu] = await journalMove(db, batch, EVENTS);
        figures[`journal move ×${batch}`] = rate;
        figures[`journal move ×${batch}: µs CPU/entry`] = cpu;
      }
    }
    const start = performance.now();
    const verdict = await verifyAuditChain(db);
    if (!verdict.ok) throw new Error(`chain does not verify: ${JSON.stringify(verdict)}`);
    figures[`verify (${verdict.count} rows)`] = verdict.count / ((performance.now() - start) / 1000);
    return figures;
  } finally {
    await db.close();
    await database.drop();
  }
}

const dialects: BenchDialect[] = values.dialect ? [values.dialect as BenchDialect] : ['sqlite', 'postgres'];
const results: Record<string, Record<string, number>> = {};
for (const d of dialects) {
  if (d === 'postgres') {
    const problem = await postgresProblem();
    if (problem) {
      process.stdout.write(`# PostgreSQL skipped: ${problem}\n`);
      continue;
    }
  }
  results[d] = await run(d);
}
const rows = [...new Set(Object.values(results).flatMap((r) => Object.keys(r)))];
const fmt = (n: number | undefined) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
process.stdout.write(`\naudit log, ${EVENTS.toLocaleString('en-US')} events per figure (events/s; verify: rows/s)\n`);
process.stdout.write(
  `${'scenario'.padEnd(34)}${Object.keys(results)
    .map((d) => d.padStart(12))
    .join('')}\n`,
);
for (const row of rows) {
  const cells = Object.keys(results).map((d) => fmt(results[d]?.[row]).padStart(12));
  process.stdout.write(`${row.padEnd(34)}${cells.join('')}\n`);
}
