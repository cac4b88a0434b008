import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCsv } from '../server/operations-routes.ts';
import { windowSegments } from './indicator-queries.ts';

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
