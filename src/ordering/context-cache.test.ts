import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freshDbUrl, freshRepo, testDialects } from '../../test/support/dialects.ts';
import { labResult } from '../../test/support/ordering.ts';
import { buildCatalogue } from '../core/ordering/catalogue.ts';
import type { Dialect } from '../store/dialect/dialect.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { PatientContextCache } from './context-cache.ts';
import { openOrdering } from './index.ts';
import { latestBySearch, loadPatientSnapshot, type PatientSnapshot } from './patient-context.ts';

const NPU = 'http://npu-terminology.org';
const cat = buildCatalogue();

const putter = (repo: FhirRepository) => async (r: Record<string, unknown>) =>
  repo.transaction(async (w) => repo.put(w, r as never));

/** The real dialect, counting the statements and transactions sent through it. */
function counted(db: Dialect): { db: Dialect; statements: () => number } {
  let n = 0;
  const count =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      n++;
      return f(...a);
    };
  const wrapped: Dialect = {
    caps: db.caps,
    all: count((sql, params) => db.all(sql, params)),
    run: count((sql, params) => db.run(sql, params)),
    insertMany: count((t, c, ty, r) => db.insertMany(t, c, ty, r)),
    insertAll: count((parts, opts) => db.insertAll(parts, opts)),
    insertManyDetached: count((t, c, ty, r) => db.insertManyDetached(t, c, ty, r)),
    deleteMany: count((t, c, ty, r) => db.deleteMany(t, c, ty, r)),
    updateMany: count((t, k, sc, ty, r) => db.updateMany(t, k, sc, ty, r)),
    lock: count((k) => db.lock(k)),
    lockMany: count((k) => db.lockMany(k)),
    nextResourceIds: count((k) => db.nextResourceIds(k)),
    transaction: count((fn) => db.transaction(fn)),
    execScript: (sql) => db.execScript(sql),
    ping: () => db.ping(),
    sizeBytes: () => db.sizeBytes(),
    close: () => db.close(),
  };
  return { db: wrapped, statements: () => n };
}

/** A cache whose loads are counted, reading the store directly (no projection). */
function countingCache(repo: FhirRepository, remotePollMs?: number) {
  const cache = new PatientContextCache(repo, { remotePollMs });
  const loads: string[] = [];
  const get = (id: string) =>
    cache.get(id, () => {
      loads.push(id);
      return loadPatientSnapshot(repo, cat, id, latestBySearch(repo, cat.items));
    });
  return { cache, loads, get };
}

for (const dialect of await testDialects()) {
  describe(`patient context cache (${dialect})`, () => {
    it('serves from memory until a committed write touches the patient, then reloads (read-your-writes)', async () => {
      const repo = await freshRepo(dialect);
      try {
        const put = putter(repo);
        const p = await put({ resourceType: 'Patient', birthDate: '1970-01-01' });
        const q = await put({ resourceType: 'Patient' });
        const { cache, loads, get } = countingCache(repo);
        assert.equal((await get(p.id)).latest.size, 0);
        await get(p.id);
        assert.deepEqual(loads, [p.id], 'second read from memory');
        // Another patient's result and an unwatched type do not invalidate p.
        await put(labResult(q.id, NPU, 'NPU19748', 1, 7, 'mg/L'));
        await put({ resourceType: 'Organization', name: 'x' });
        await get(p.id);
        assert.deepEqual(loads, [p.id]);
        // p's own result: seen by the very next read.
        const crp = await put(labResult(p.id, NPU, 'NPU19748', 2, 40, 'mg/L'));
        assert.equal((await get(p.id)).latest.get('crp')?.observationId, crp.id);
        assert.equal(loads.length, 2);
        // The result moved to q: p's snapshot was built from it, so p is reloaded without it.
        await put({ ...JSON.parse(crp.json!), subject: { reference: `Patient/${q.id}` } });
        assert.equal((await get(p.id)).latest.get('crp'), undefined);
        assert.equal(loads.length, 3);
        // Orders: an active order is open; revoked, it is gone at once.
        const sr = await put({
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          code: { coding: [{ system: NPU, code: 'NPU19748' }] },
          subject: { reference: `Patient/${p.id}` },
        });
        assert.deepEqual(
          (await get(p.id)).openOrders.map((o) => o.id),
          [sr.id],
        );
        await put({ ...JSON.parse(sr.json!), status: 'revoked' });
        assert.deepEqual((await get(p.id)).openOrders, []);
        // The patient deleted: not found, and nothing stale is served.
        await repo.transaction(async (w) => repo.delete(w, 'Patient', p.id));
        await assert.rejects(get(p.id), /Patient/);
        assert.equal(cache.size, 0, 'nothing of the deleted patient is kept');
      } finally {
        await repo.close();
      }
    });

    it('does not keep a load that a write to its patient overtook; later callers load afresh', async () => {
      const repo = await freshRepo(dialect);
      try {
        const put = putter(repo);
        const p = await put({ resourceType: 'Patient' });
        const cache = new PatientContextCache(repo);
        await cache.sync();
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        let read!: () => void;
        const firstRead = new Promise<void>((r) => {
          read = r;
        });
        let loads = 0;
        const load = async (): Promise<PatientSnapshot> => {
          const n = ++loads;
          const snap = await loadPatientSnapshot(repo, cat, p.id, latestBySearch(repo, cat.items));
          if (n === 1) {
            read();
            await gate;
          }
          return snap;
        };
        const slow = cache.get(p.id, load);
        await firstRead;
        const crp = await put(labResult(p.id, NPU, 'NPU19748', 1, 9, 'mg/L'));
        const fresh = await cache.get(p.id, load);
        assert.equal(fresh.latest.get('crp')?.observationId, crp.id, 'a caller after the write sees it');
        release();
        assert.equal((await slow).latest.get('crp'), undefined, 'the overtaken load answers its own callers');
        assert.equal((await cache.get(p.id, load)).latest.get('crp')?.observationId, crp.id);
        assert.equal(loads, 2, 'the overtaken load was not kept; the fresh one was');
      } finally {
        await repo.close();
      }
    });

    it('evaluations see a result committed just before them, in every service on the repository', async () => {
      const repo = await freshRepo(dialect);
      try {
        const put = putter(repo);
        const p = await put({ resourceType: 'Patient', birthDate: '1960-01-01' });
        const [a, b] = [await openOrdering(repo), await openOrdering(repo)];
        const drafts = [{ id: 'o1', test: 'crp', priority: 'routine' as const, indications: [] }];
        const fired = async (svc: typeof a) =>
          (await svc.evaluate({ patientId: p.id, drafts })).map((f) => f.rule).includes('retest-crp-24h');
        assert.equal(await fired(a), false);
        assert.equal(await fired(b), false);
        await put(labResult(p.id, NPU, 'NPU19748', 3, 55, 'mg/L'));
        assert.equal(await fired(a), true);
        assert.equal(await fired(b), true);
        await a.events.close();
        await b.events.close();
      } finally {
        await repo.close();
      }
    });

    it('answers from memory without a statement while nothing changed; a write of this process is seen without a poll', async () => {
      const c = counted(await openDialect(freshDbUrl(dialect)));
      const repo = await FhirRepository.open(c.db);
      try {
        const put = putter(repo);
        const p = await put({ resourceType: 'Patient', birthDate: '1970-01-01' });
        // No timer: only this process's commits can invalidate.
        const { cache, loads, get } = countingCache(repo, 0);
        await get(p.id);
        const before = c.statements();
        for (let i = 0; i < 20; i++) await get(p.id);
        assert.equal(c.statements(), before, 'no database statement per evaluation');
        assert.equal(loads.length, 1);
        const crp = await put(labResult(p.id, NPU, 'NPU19748', 1, 12, 'mg/L'));
        assert.equal((await get(p.id)).latest.get('crp')?.observationId, crp.id, 'the commit dropped the snapshot');
        assert.equal(loads.length, 2);
        // The outbox poll passes the same write without dropping the fresh snapshot again.
        await cache.sync();
        await get(p.id);
        assert.equal(loads.length, 2, 'a write of this process is applied once');
        cache.close();
      } finally {
        await repo.close();
      }
    });

    it('a write of another process is seen after the outbox poll (bounded staleness)', async () => {
      const dir = dialect === 'sqlite' ? mkdtempSync(join(tmpdir(), 'dxhub-ctx-')) : undefined;
      const url = freshDbUrl(dialect, dir ? join(dir, 'db.sqlite') : undefined);
      const here = await FhirRepository.open(await openDialect(url));
      const there = await FhirRepository.open(await openDialect(url));
      try {
        const p = await putter(here)({ resourceType: 'Patient' });
        const { cache, loads, get } = countingCache(here, 0);
        await get(p.id);
        const crp = await putter(there)(labResult(p.id, NPU, 'NPU19748', 1, 30, 'mg/L'));
        // Not reported to this process: served from memory until the poll.
        assert.equal((await get(p.id)).latest.get('crp'), undefined);
        assert.equal(loads.length, 1);
        await cache.sync();
        assert.equal((await get(p.id)).latest.get('crp')?.observationId, crp.id);
        assert.equal(loads.length, 2);
        cache.close();
        // With the timer: the poll runs by itself while the cache is in use.
        const polled = countingCache(here, 5);
        await polled.get(p.id);
        const ldl = await putter(there)(labResult(p.id, NPU, 'NPU01568', 1, 3, 'mmol/L'));
        let seen = false;
        for (let i = 0; i < 500 && !seen; i++) {
          await new Promise((r) => setTimeout(r, 10));
          seen = (await polled.get(p.id)).latest.get('ldl')?.observationId === ldl.id;
        }
        assert.ok(seen, 'the periodic poll picked up the other process write');
        assert.ok(polled.cache.polls > 1);
        polled.cache.close();
      } finally {
        await here.close();
        await there.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
