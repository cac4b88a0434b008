import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { testDialects } from '../../test/support/dialects.ts';
import type { Dialect } from '../store/dialect/dialect.ts';
import { freshAuditLog, readEntry } from './audit.fixture.ts';
import { AuditLog } from './audit-log.ts';
import { whoLookedAt } from './who-looked-at.ts';

const T0 = Date.UTC(2026, 10, 29, 8);
const MIN = 60_000;

for (const dialect of await testDialects()) {
  describe(`whoLookedAt on ${dialect}`, () => {
    let db: Dialect;
    after(async () => db?.close());

    test('lists one patient’s entries, newest first, with paging, since and consent override', async () => {
      ({ db } = await freshAuditLog(dialect));
      let now = T0;
      const log = await AuditLog.open(db, { clock: { now: () => now } });
      for (let i = 0; i < 10; i++) {
        now = T0 + i * MIN;
        await log.record({ ...readEntry(i, i % 2 === 0 ? 'anna' : 'bent'), agent: `doc-${i}` });
      }
      now = T0 + 30 * MIN;
      await log.record({
        ...readEntry(99, 'anna'),
        action: 'break-glass',
        purpose: undefined,
        agent: 'er-doc',
        detail: 'unconscious',
      });
      await log.record({ action: 'login', agent: 'er-doc' });
      // Staged entries (PostgreSQL) are chained before the citizen's view reads them.
      await log.flushed();

      const anna = await whoLookedAt(db, 'anna', { count: 100 });
      assert.deepEqual(
        anna.map((e) => e.agent),
        ['er-doc', 'doc-8', 'doc-6', 'doc-4', 'doc-2', 'doc-0'],
      );
      assert.deepEqual(
        anna.map((e) => e.consentOverride),
        [true, false, false, false, false, false],
      );
      assert.equal(anna[1]!.organisation, '123456789012345');
      assert.equal(anna[1]!.at, T0 + 8 * MIN);
      assert.equal(anna[1]!.event.resourceType, 'AuditEvent');

      const page1 = await whoLookedAt(db, 'anna', { count: 2 });
      const page2 = await whoLookedAt(db, 'anna', { count: 2, before: page1.at(-1)!.seq });
      assert.deepEqual(
        [...page1, ...page2].map((e) => e.agent),
        ['er-doc', 'doc-8', 'doc-6', 'doc-4'],
      );
      const recent = await whoLookedAt(db, 'anna', { count: 10, since: T0 + 5 * MIN });
      assert.deepEqual(
        recent.map((e) => e.agent),
        ['er-doc', 'doc-8', 'doc-6'],
      );
      assert.deepEqual(await whoLookedAt(db, 'nobody', { count: 10 }), []);
    });
  });
}
