import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../../../test/support/prng.ts';
import {
  addToSketch,
  decodeSketch,
  denseQuantile,
  encodeSketch,
  mergeEncodedSketch,
  mergeSketch,
  newDenseSketch,
  newSketch,
  SKETCH_ALPHA,
  sketchQuantile,
} from './ddsketch.ts';

/** Exact lower nearest-rank quantile, as the sketch defines it. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

test('quantiles of a skewed (log-normal) TAT sample are within the relative accuracy', () => {
  const rnd = prng(7);
  const values: number[] = [];
  const s = newSketch();
  for (let i = 0; i < 20_000; i++) {
    // Log-normal around 40 min: right-skewed like turnaround times.
    const u = Math.max(1e-9, rnd());
    const v = Math.exp(Math.log(2400) + 0.6 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd()));
    values.push(v);
    addToSketch(s, v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1]) {
    const want = exact(values, q);
    const got = sketchQuantile(s, q)!;
    assert.ok(Math.abs(got - want) <= SKETCH_ALPHA * want + 1e-9, `q=${q}: ${got} vs exact ${want}`);
  }
});

test('hand-computed: median and P90 of ten durations', () => {
  // 10..100 minutes in seconds: lower nearest rank ⌊0.5·9⌋ = 4 → 50 min, ⌊0.9·9⌋ = 8 → 90 min.
  const s = newSketch();
  for (let m = 10; m <= 100; m += 10) addToSketch(s, m * 60);
  assert.ok(Math.abs(sketchQuantile(s, 0.5)! - 3000) <= 30);
  assert.ok(Math.abs(sketchQuantile(s, 0.9)! - 5400) <= 54);
  assert.equal(sketchQuantile(newSketch(), 0.5), null);
});

test('merging two sketches equals sketching the union; zero and negative durations count as 0', () => {
  const a = newSketch();
  const b = newSketch();
  const all = newSketch();
  for (let i = 1; i <= 500; i++) {
    addToSketch(i % 2 ? a : b, i * 7);
    addToSketch(all, i * 7);
  }
  addToSketch(a, 0);
  addToSketch(all, -5);
  mergeSketch(a, b);
  assert.equal(a.count, all.count);
  assert.deepEqual([...a.bins].sort(), [...all.bins].sort());
  assert.equal(sketchQuantile(a, 0), 0);
});

test('encode/decode round trip; malformed text is refused', () => {
  const s = newSketch();
  for (const v of [0, 1, 59, 60, 61, 3600]) addToSketch(s, v);
  const back = decodeSketch(encodeSketch(s));
  assert.equal(back.count, 6);
  assert.equal(sketchQuantile(back, 0.5), sketchQuantile(s, 0.5));
  assert.throws(() => decodeSketch('x;1:2'), /malformed/);
  assert.throws(() => decodeSketch('0;1:-2'), /malformed/);
});

test('rolling encoded sketches up into a dense sketch gives the same quantiles as merging them', () => {
  const a = newSketch();
  const b = newSketch();
  for (let i = 1; i <= 300; i++) addToSketch(i % 3 ? a : b, i * 13);
  addToSketch(b, 0);
  const dense = newDenseSketch();
  mergeEncodedSketch(dense, encodeSketch(a));
  mergeEncodedSketch(dense, encodeSketch(b));
  mergeSketch(a, b);
  for (const q of [0, 0.5, 0.9, 1]) assert.equal(denseQuantile(dense, q), sketchQuantile(a, q));
  assert.equal(dense.count, 301);
});
