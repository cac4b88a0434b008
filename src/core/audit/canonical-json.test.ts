import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';

test('sorts keys recursively and drops whitespace and undefined members', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'x' }], c: true }, u: undefined }),
    '{"a":{"c":true,"d":[3,{"y":"x","z":null}]},"b":1}',
  );
});

test('orders keys by UTF-16 code units (the key set of RFC 8785 §3.2.3)', () => {
  const keys = ['\ufb33', '\u20ac', '1', '\ud83d\ude00', '\u0080', '\r', '\u00f6'];
  const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
  assert.equal(canonicalJson(obj), '{"\\r":5,"1":2,"\u0080":4,"\u00f6":6,"\u20ac":1,"\ud83d\ude00":3,"\ufb33":0}');
});

test('numbers as ECMAScript serialises them; non-finite numbers refused', () => {
  assert.equal(canonicalJson([1e21, 0.1, -0, 1764374400000]), '[1e+21,0.1,0,1764374400000]');
  assert.throws(() => canonicalJson(Number.NaN), TypeError);
  assert.throws(() => canonicalJson({ f: () => 1 }), TypeError);
});

test('the same value in another key order gives the same text', () => {
  assert.equal(canonicalJson({ x: 1, y: [2, 'é'] }), canonicalJson({ y: [2, 'é'], x: 1 }));
});

test('integer-like keys are ordered as text too (not as JS enumerates them)', () => {
  assert.equal(canonicalJson({ b: { 10: 'x', 9: 'y', a: 1 }, 2: true }), '{"2":true,"b":{"10":"x","9":"y","a":1}}');
  assert.throws(() => canonicalJson([1, undefined]), TypeError);
});
