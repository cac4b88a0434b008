import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { countingDialect, RoundTrips } from '../../bench/counting-dialect.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { observation, patient } from '../../test/support/factories.ts';
import { openDialect } from './dialect/dialect.ts';
import { OutboxConsumer } from './outbox.ts';
import { FhirRepository } from './repository.ts';

/**
 * How a write transaction reaches the database: a small write sends its resource, index and outbox
 * rows in one statement (the outbox lock taken first in it); a large one writes its rows first and
 * takes the lock in a statement of its own. Statement counts, not timings: they do not depend on
 * the machine.
 */
for (const dialect of await testDialects()) {
  describe(`write statements (${dialect})`, () => {
    const trips = new RoundTrips();
    let repo: FhirRepository;
    before(async () => {
      repo = await FhirRepository.open(countingDialect(await openDialect(freshDbUrl(dialect)), trips));
    });
    after(async () => repo.close());

    test('a single create: row ids, one statement for the resource, its index rows and the outbox, commit', async () => {
      const p = await repo.transaction((w) => repo.put(w, patient()));
      trips.reset();
      const o = await repo.transaction((w) => repo.put(w, observation({ subject: `Patient/${p.id}` })));
      const labels = [...trips.byLabel.keys()];
      assert.deepEqual(
        labels.map((l) => l.replace(/(\+idx_[a-z]+)+/g, '+idx')),
        ['BEGIN', 'nextResourceIds', 'insertAll resource+idx+outbox (lock)', 'COMMIT'],
      );
      assert.equal(trips.total, 4);
      // The outbox event is there, after the Patient's, and names the new version.
      const consumer = new OutboxConsumer(repo.db, 'write-statements-probe');
      const events = await consumer.poll(10);
      assert.deepEqual(
        events.map((e) => `${e.type}/${e.id}/${e.version}`),
        [`Patient/${p.id}/1`, `Observation/${o.id}/1`],
      );
    });

    test('a large write inserts its rows first and appends the outbox under the lock in a statement of its own', async () => {
      trips.reset();
      const p = await repo.transaction((w) => repo.put(w, patient()));
      // 60 Observations: far more than 256 resource and index rows.
      await repo.transaction(async (w) => {
        for (let i = 0; i < 60; i++) await repo.put(w, observation({ subject: `Patient/${p.id}` }));
      });
      const labels = [...trips.byLabel.keys()];
      assert.ok(
        labels.some((l) => l === 'insertAll outbox (lock)'),
        `the outbox alone under the lock: ${labels.join(', ')}`,
      );
      const consumer = new OutboxConsumer(repo.db, 'write-statements-large');
      const events = await consumer.poll(500);
      assert.equal(events.filter((e) => e.type === 'Observation').length, 61);
    });
  });
}
