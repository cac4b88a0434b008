import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SILENCE, silenceVerdict } from './interface-silence.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const MIN = 60_000;

test('a sender of 288 messages a day (one per 5 min) is silent after 5 normal gaps, but never before 15 min', () => {
  // Normal gap 24 h / 288 = 5 min; 5 gaps = 25 min.
  assert.equal(silenceVerdict(288, NOW - 20 * MIN, NOW).silent, false);
  const late = silenceVerdict(288, NOW - 26 * MIN, NOW);
  assert.deepEqual(late, { normalGapMs: 5 * MIN, silentForMs: 26 * MIN, silent: true });
  // A busy analyzer (a message every 10 s): 5 gaps = 50 s, but silence counts from 15 min.
  assert.equal(silenceVerdict(8640, NOW - 10 * MIN, NOW, DEFAULT_SILENCE).silent, false);
  assert.equal(silenceVerdict(8640, NOW - 16 * MIN, NOW, DEFAULT_SILENCE).silent, true);
});

test('without enough messages to know what is normal, nothing is called silent', () => {
  assert.equal(silenceVerdict(1, NOW - 60 * MIN, NOW).silent, false);
  // ...except a sender seen before that sent nothing for a whole window.
  assert.equal(silenceVerdict(0, NOW - 48 * 60 * MIN, NOW).silent, true);
  assert.equal(silenceVerdict(0, null, NOW).silentForMs, null);
});
