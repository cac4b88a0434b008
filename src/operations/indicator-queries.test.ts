import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { simulateOrders } from '../../test/support/ops-simulation.ts';
import { bucketStart, DAY_MS } from '../core/operations/indicator-buckets.ts';
import { toCsv } from '../server/operations-routes.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { type GroupBy, IndicatorCache, queryIndicators, type TimeWindow, windowSegments } from './indicator-queries.ts';
import { IndicatorState } from './indicator-state.ts';
import { DEFAULT_OPERATIONS_CONFIG } from './operations-config.ts';

const NOW = Date.parse('2026-11-28T20:30:00Z');
const iso = (s: { grain: string; from: number; to: number }) => [
  s.grain,
  new Date(s.from).toISOString().slice(0, 10),
  new Date(s.to).toISOString().slice(0, 13),
];

test('365 days read whole months plus the days at both edges', () => {
  const { segments, hours } = windowSegments('365d', NOW, 'all');
  assert.deepEqual(segments.map(iso), [
    ['d', '2025-11-29', '2025-11-30T00'],
    ['m', '2025-12-01', '2026-10-31T23'],
    ['d', '2026-11-01', '2026-11-28T00'],
  ]);
  assert.equal(hours, 364 * 24 + 20.5);
});

test('7 and 30 days read days; live and today read hours (today from Danish midnight)', () => {
  assert.deepEqual(windowSegments('7d', NOW, 'all').segments.map(iso), [['d', '2026-11-22', '2026-11-28T00']]);
  assert.deepEqual(windowSegments('30d', NOW, 'all').segments.map(iso), [['d', '2026-10-30', '2026-11-28T00']]);
  assert.deepEqual(windowSegments('live', NOW, 'all').segments.map(iso), [['h', '2026-11-28', '2026-11-28T20']]);
  // 28 November, CET = UTC+1: Danish midnight is 23:00 UTC the day before.
  const today = windowSegments('today', NOW, 'priority').segments[0]!;
  assert.equal(new Date(today.from).toISOString(), '2026-11-27T23:00:00.000Z');
  // Hour buckets keep no instrument breakdown: today's day bucket answers.
  assert.deepEqual(windowSegments('today', NOW, 'instrument').segments.map(iso), [
    ['d', '2026-11-27', '2026-11-28T00'],
  ]);
});

test('CSV export quotes separators and quotes (RFC 4180)', () => {
  assert.equal(
    toCsv([
      { a: 'x,y', b: 'say "hi"' },
      { a: 1, c: null },
    ]),
    'a,b,c\r\n"x,y","say ""hi""",\r\n1,,\r\n',
  );
});

for (const dialect of await testDialects()) {
  test(`${dialect}: cached roll-ups of ended days answer as the buckets do, and a late event or a second writer makes them stale`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-cache-'));
    const url = freshDbUrl(dialect, join(dir, 'ops.db'));
    const repo = await FhirRepository.open(await openDialect(url));
    const second = await FhirRepository.open(await openDialect(url));
    try {
      const now = Date.now();
      const day = (d: number) => bucketStart('d', now) - d * DAY_MS;
      const state = new IndicatorState(repo.db, DEFAULT_OPERATIONS_CONFIG);
      await state.apply(
        simulateOrders({
          seed: 5,
          start: day(4),
          hours: 4 * 24 + 2,
          sections: ['S1', 'S2'],
          ordersPerHour: () => 8,
          resultsPerOrder: 2,
        }),
      );
      const cache = new IndicatorCache();
      const ask = (window: TimeWindow, by: GroupBy, c?: IndicatorCache) =>
        queryIndicators(repo.db, { window, by, sections: null, now }, c);
      for (const [window, by] of [
        ['7d', 'analysis'],
        ['30d', 'hour'],
        ['365d', 'section'],
        ['30d', 'all'],
      ] as const) {
        const plain = await ask(window, by);
        assert.ok(plain.length > 0);
        assert.deepEqual(await ask(window, by, cache), plain, `${window} ${by}, first`);
        assert.deepEqual(await ask(window, by, cache), plain, `${window} ${by}, from the cache`);
      }
      assert.equal(cache.hits, 4);
      const count = async (c?: IndicatorCache) => (await ask('30d', 'all', c)).find((r) => r.measure === 'results')!.n;
      const before = await count();
      assert.equal(await count(cache), before);
      // A late result for an order of three days ago lands in an ended day's buckets.
      const late = simulateOrders({ seed: 99, start: day(3) + 10 * 3_600_000, hours: 1, sections: ['S1'] });
      await state.apply(late);
      const added = late.filter((i) => i.kind === 'result').length;
      assert.ok(added > 0);
      assert.equal(await count(), before + added);
      assert.equal(await count(cache), before + added, 'the cache saw the late event');
      // Another process's indicator state (another connection) writes to an ended day as well.
      const other = new IndicatorState(second.db, DEFAULT_OPERATIONS_CONFIG);
      const later = simulateOrders({ seed: 98, start: day(2) + 9 * 3_600_000, hours: 1, sections: ['S2'] });
      await other.apply(later);
      const added2 = later.filter((i) => i.kind === 'result').length;
      assert.equal(await count(cache), before + added + added2, "the cache saw the other writer's event");
    } finally {
      await second.close();
      await repo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
