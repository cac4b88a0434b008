import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { testDialects } from '../../test/support/dialects.ts';
import { auditFields } from '../core/audit/audit-chain.ts';
import { auditHash } from '../core/audit/audit-hash.ts';
import type { Dialect } from '../store/dialect/dialect.ts';
import { freshAuditLog, readEntry, tamper } from './audit.fixture.ts';
import type { AuditLog } from './audit-log.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';

for (const dialect of await testDialects()) {
  describe(`verifyAuditChain on ${dialect}`, () => {
    const open: Dialect[] = [];
    after(async () => {
      for (const db of open) await db.close();
    });
    /** A log of 12 entries, written in three transactions. */
    const twelve = async (): Promise<{ db: Dialect; log: AuditLog }> => {
      const r = await freshAuditLog(dialect);
      open.push(r.db);
      for (let t = 0; t < 3; t++) await r.log.append([0, 1, 2, 3].map((i) => readEntry(t * 4 + i)));
      return r;
    };
    // Small batches, so that every problem below is found across a batch boundary too.
    const verify = (db: Dialect) => verifyAuditChain(db, { batchSize: 5 });

    test('an untouched log verifies; an empty one too', async () => {
      const { db } = await twelve();
      const verdict = await verify(db);
      assert.equal(verdict.ok && verdict.count, 12);
      const empty = await freshAuditLog(dialect);
      open.push(empty.db);
      assert.deepEqual(await verifyAuditChain(empty.db), {
        ok: true,
        count: 0,
        last: { seq: 0, hash: '0'.repeat(64) },
      });
    });

    test('an altered field is found at its seq, and the guards are back afterwards', async () => {
      const { db } = await twelve();
      await tamper(db, ["UPDATE audit_log SET agent = 'someone-else' WHERE seq = 7"]);
      assert.deepEqual(await verify(db), { ok: false, seq: 7, problem: 'altered' });
      await assert.rejects(db.run('DELETE FROM audit_log WHERE seq = 1'), /append-only/);
    });

    test('an altered event text or prev_hash is found', async () => {
      const { db } = await twelve();
      await tamper(db, ["UPDATE audit_log SET event = REPLACE(event, 'obs-2', 'obs-x') WHERE seq = 3"]);
      assert.deepEqual(await verify(db), { ok: false, seq: 3, problem: 'altered' });
      const other = await twelve();
      await tamper(other.db, ['UPDATE audit_log SET prev_hash = hash WHERE seq = 11']);
      assert.deepEqual(await verify(other.db), { ok: false, seq: 11, problem: 'altered' });
    });

    test('a removed entry is missing; the first and a renumbered one too', async () => {
      const { db } = await twelve();
      await tamper(db, ['DELETE FROM audit_log WHERE seq = 5']);
      assert.deepEqual(await verify(db), { ok: false, seq: 5, problem: 'missing' });
      const first = await twelve();
      await tamper(first.db, ['DELETE FROM audit_log WHERE seq = 1']);
      assert.deepEqual(await verify(first.db), { ok: false, seq: 1, problem: 'missing' });
      // Removed and the later entries renumbered to close the gap.
      const closed = await twelve();
      await tamper(closed.db, [
        'DELETE FROM audit_log WHERE seq = 8',
        'UPDATE audit_log SET seq = -seq WHERE seq > 8',
        'UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0',
      ]);
      assert.deepEqual(await verify(closed.db), { ok: false, seq: 8, problem: 'missing' });
    });

    test('swapped entries are reordered', async () => {
      const { db } = await twelve();
      await tamper(db, [
        'UPDATE audit_log SET seq = -1 WHERE seq = 5',
        'UPDATE audit_log SET seq = 5 WHERE seq = 6',
        'UPDATE audit_log SET seq = 6 WHERE seq = -1',
      ]);
      assert.deepEqual(await verify(db), { ok: false, seq: 5, problem: 'reordered' });
    });

    test('an entry moved far ahead is reordered', async () => {
      const { db } = await twelve();
      // Entry 3 moved behind entry 10; 4…10 shift down by one.
      await tamper(db, [
        'UPDATE audit_log SET seq = -100 WHERE seq = 3',
        'UPDATE audit_log SET seq = -seq WHERE seq BETWEEN 4 AND 10',
        'UPDATE audit_log SET seq = -seq - 1 WHERE seq BETWEEN -10 AND -4',
        'UPDATE audit_log SET seq = 10 WHERE seq = -100',
      ]);
      assert.deepEqual(await verify(db), { ok: false, seq: 3, problem: 'reordered' });
    });

    test('a forged entry slipped in with a correct hash is inserted', async () => {
      const { db } = await twelve();
      const [four] = await db.all<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 4');
      const forged = auditFields({ action: 'read', agent: 'alibi', patient: 'pat-1' }, Date.UTC(2026, 10, 29), {
        observer: 'dxhub',
      });
      const hash = auditHash(four!.hash, forged);
      await tamper(db, [
        'UPDATE audit_log SET seq = -seq - 1 WHERE seq >= 5',
        'UPDATE audit_log SET seq = -seq WHERE seq < 0',
        `INSERT INTO audit_log (seq, at, patient, agent, action, outcome, prev_hash, hash, event) VALUES (5, ${forged.at},
         'pat-1', 'alibi', 'read', 'success', '${four!.hash}', '${hash}', '${forged.event.replaceAll("'", "''")}')`,
      ]);
      assert.deepEqual(await verify(db), { ok: false, seq: 5, problem: 'inserted' });
    });

    test('a removed newest entry is found only against an anchor', async () => {
      const { db } = await twelve();
      const before = await verify(db);
      assert.ok(before.ok);
      await tamper(db, ['DELETE FROM audit_log WHERE seq = 12']);
      assert.equal((await verify(db)).ok, true, 'without an anchor a cut tail looks like a shorter log');
      assert.deepEqual(await verifyAuditChain(db, { anchor: before.last }), { ok: false, seq: 12, problem: 'missing' });
    });
  });
}
