import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { AccessFacts, DEFAULT_ACCESS_POLICY, SOR_SYSTEM } from './access-control.ts';

/**
 * Cached access facts past `cacheMs`: reused while outbox checks find no write of a resource they
 * are built from, dropped once a check finds one made by another process (a second repository on
 * the same database), and read again past `checkedCacheMs` in any case.
 */
for (const dialect of await testDialects()) {
  describe(`access facts kept by outbox checks on ${dialect}`, () => {
    test('reused while nothing changed, dropped after another process changes a relation', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dxhub-facts-'));
      const url = freshDbUrl(dialect, join(dir, 'facts.db'));
      const server = await FhirRepository.open(await openDialect(url));
      const other = await FhirRepository.open(await openDialect(url));
      try {
        const put = (r: Resource) => other.transaction((w) => other.put(w, r));
        await put({ resourceType: 'Organization', id: 'org-med', identifier: [{ system: SOR_SYSTEM, value: 'med' }] });
        await put({ resourceType: 'Patient', id: 'p1' });
        const encounter = {
          resourceType: 'Encounter',
          id: 'e1',
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
          subject: { reference: 'Patient/p1' },
          serviceProvider: { reference: 'Organization/org-med' },
        };
        await put(encounter);

        let now = Date.UTC(2026, 11, 2, 9);
        const facts = new AccessFacts(server, { ...DEFAULT_ACCESS_POLICY, checkedCacheMs: 20_000 }, () => now);
        let loads = 0;
        const searchEach = server.searchEach.bind(server);
        server.searchEach = ((...args: Parameters<typeof searchEach>) => {
          loads++;
          return searchEach(...args);
        }) as typeof server.searchEach;
        const step = async (ms: number) => {
          now += ms;
          const f = await facts.facts('p1');
          while (facts.checking) await new Promise((r) => setTimeout(r, 2));
          return f;
        };

        assert.deepEqual((await step(0)).relationOrgs, ['med']);
        assert.equal(loads, 1);
        // Facts read before the first check completed are not vouched for: read again at 5 s.
        while (loads === 1 && now < Date.UTC(2026, 11, 2, 9) + 10_000) await step(1000);
        assert.equal(loads, 2, 'read again once past cacheMs');
        assert.equal(now - Date.UTC(2026, 11, 2, 9), 5000);
        const reloadedAt = now;
        // From then on the checks vouch for them well past cacheMs (5 s), up to checkedCacheMs.
        while (now - reloadedAt < 19_000) await step(1000);
        assert.equal(loads, 2, 'no reload while the checks find nothing');
        assert.ok(facts.outboxChecks >= 6, `${facts.outboxChecks} outbox checks`);
        await step(1000);
        assert.equal(loads, 3, 'read again at checkedCacheMs');
        // Not used for a while (no checks then): one check on the next use vouches for them again.
        await step(6000);
        const checks = facts.outboxChecks;
        await step(8000);
        assert.equal(loads, 3, 'a check, not a reload, after a pause');
        assert.equal(facts.outboxChecks, checks + 1);
        // A change by another process during such a pause is found by that check.
        await put({ ...encounter, status: 'onleave' });
        await step(8000);
        assert.equal(loads, 4, 'read again: the check found the write');

        // Another process ends the relation: seen within cacheMs of (fake) time.
        await put({ ...encounter, status: 'finished' });
        const changedAt = now;
        let f = await step(0);
        while (f.relationOrgs.length > 0 && now - changedAt < 5000) f = await step(500);
        assert.deepEqual(f.relationOrgs, [], 'the ended relation is seen within cacheMs');
        assert.ok(now - changedAt <= 5000);
      } finally {
        await server.close();
        await other.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
