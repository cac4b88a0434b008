import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newResourceId } from './resource-id.ts';

test('ids are RFC 9562 version 7 UUIDs, unique and increasing', () => {
  const ids = Array.from({ length: 5000 }, () => newResourceId(1_700_000_000_000));
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  // The first 48 bits are the time in milliseconds.
  const later = newResourceId(1_800_000_000_000);
  assert.equal(Number.parseInt(later.replace(/-/g, '').slice(0, 12), 16), 1_800_000_000_000);
});
